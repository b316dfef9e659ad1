import { describe, expect, test } from 'bun:test'
import { applyChanges, changeList } from './changes.ts'
import { ImageError } from './errors.ts'

const apply = (changes: string[], base = {}) => applyChanges(base, changes)

describe('applyChanges', () => {
  test('CMD and ENTRYPOINT: JSON exec form as is, anything else through /bin/sh -c', () => {
    expect(apply(['CMD ["sh", "-c", "echo hi"]']).Cmd).toEqual(['sh', '-c', 'echo hi'])
    expect(apply(['cmd echo $HOME']).Cmd).toEqual(['/bin/sh', '-c', 'echo $HOME'])
    expect(apply(['ENTRYPOINT ["/init"]']).Entrypoint).toEqual(['/init'])
    // a bracket that is not a JSON array of strings is shell form
    expect(apply(['CMD [1, 2]']).Cmd).toEqual(['/bin/sh', '-c', '[1, 2]'])
  })

  test('ENTRYPOINT drops the inherited CMD unless the changes set one', () => {
    expect(apply(['ENTRYPOINT ["/x"]'], { Cmd: ['sh'] }).Cmd).toBeNull()
    expect(apply(['CMD ["a"]', 'ENTRYPOINT ["/x"]'], { Cmd: ['sh'] }).Cmd).toEqual(['a'])
  })

  test('ENV: name=value pairs with quotes and expansion, the legacy form, replacement', () => {
    // As in a Dockerfile, one instruction expands with the Env from before it.
    const c = apply(['ENV A=1 B="two words" C=${A}x', 'ENV D the rest is $A', 'ENV A=3'], {
      Env: ['PATH=/bin'],
    })
    expect(c.Env).toEqual(['PATH=/bin', 'B=two words', 'C=x', 'D=the rest is 1', 'A=3'])
    expect(apply(["ENV E='$NOT' F=\\$G H=${MISSING:-dflt}"]).Env).toEqual(['E=$NOT', 'F=$G', 'H=dflt'])
  })

  test('LABEL, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD', () => {
    const c = apply(
      [
        'LABEL a=b "c d"="e f"',
        'EXPOSE 80 53/udp 8000-8001',
        'USER nobody',
        'WORKDIR /app',
        'WORKDIR sub/../dir',
        'VOLUME ["/data", "/logs"]',
        'VOLUME /cache',
        'STOPSIGNAL SIGTERM',
        'ONBUILD RUN echo hi',
      ],
      { Labels: { keep: 'me' } }
    )
    expect(c.Labels).toEqual({ keep: 'me', a: 'b', 'c d': 'e f' })
    expect(Object.keys(c.ExposedPorts!)).toEqual(['80/tcp', '53/udp', '8000/tcp', '8001/tcp'])
    expect(c.User).toBe('nobody')
    expect(c.WorkingDir).toBe('/app/dir')
    expect(Object.keys(c.Volumes!)).toEqual(['/data', '/logs', '/cache'])
    expect(c.StopSignal).toBe('SIGTERM')
    expect(c.OnBuild).toEqual(['RUN echo hi'])
  })

  test('a trailing backslash continues the instruction; the input is not modified', () => {
    const base = { Env: ['X=1'] }
    expect(apply(['ENV A=1 \\', '  B=2'], base).Env).toEqual(['X=1', 'A=1', 'B=2'])
    expect(base.Env).toEqual(['X=1'])
  })

  test('refuses what moby refuses, with 400 and its wording', () => {
    const refused = (changes: string[]) => {
      try {
        apply(changes)
      } catch (err) {
        expect(err).toBeInstanceOf(ImageError)
        expect((err as ImageError).status).toBe(400)
        return (err as Error).message
      }
      throw new Error('not refused')
    }
    expect(refused(['RUN echo hi'])).toBe('run is not a valid change command')
    expect(refused(['FROM busybox'])).toBe('from is not a valid change command')
    expect(refused(['USER a b'])).toBe('USER requires exactly one argument')
    expect(refused(['EXPOSE'])).toBe('EXPOSE requires at least one argument')
    expect(refused(['EXPOSE 80/foo'])).toBe('invalid proto: foo')
    expect(refused(['ENV A=1 B'])).toStartWith("Syntax error - can't find = in")
    expect(refused(['ONBUILD ONBUILD RUN x'])).toBe("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    expect(refused(['STOPSIGNAL SIGNOPE'])).toBe('Invalid signal: SIGNOPE')
  })

  test('changeList accepts absent, single and repeated parameters', () => {
    expect(changeList(undefined)).toEqual([])
    expect(changeList('CMD a')).toEqual(['CMD a'])
    expect(changeList(['CMD a', 'ENV B=1'])).toEqual(['CMD a', 'ENV B=1'])
  })
})
