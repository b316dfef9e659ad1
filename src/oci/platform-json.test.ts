import { describe, expect, test } from 'bun:test'
import { parseJsonPlatform } from './platform-json.ts'
import { PlatformError, type PlatformSpec } from './platform.ts'

const p = (os: string, architecture: string, variant?: string): PlatformSpec =>
  variant ? { os, architecture, variant } : { os, architecture }

describe('parseJsonPlatform', () => {
  test.each([
    ['{"architecture":"arm64","os":"linux"}', p('linux', 'arm64')],
    ['{"architecture":"arm64","os":"linux","variant":"v8"}', p('linux', 'arm64', 'v8')],
    // Returned as given: matching normalises, messages echo what was asked.
    ['{"architecture":"aarch64","os":"Linux"}', p('Linux', 'aarch64')],
    ['{"OS":"linux","Architecture":"amd64","VARIANT":"v2"}', p('linux', 'amd64', 'v2')],
    ['{"os":"linux","architecture":"amd64","variant":null,"os.version":"x","os.features":["a"],"extra":1}', p('linux', 'amd64')],
    ['{"os":"darwin","os":"linux","architecture":"amd64"}', p('linux', 'amd64')],
    [' {"architecture":"arm","os":"linux","variant":"v7"} ', p('linux', 'arm', 'v7')],
  ])('%p', (input: string, expected: PlatformSpec) => {
    expect(parseJsonPlatform(input)).toEqual(expected)
  })

  test.each([
    ['', 'failed to parse platform: unexpected end of JSON input'],
    ['   ', 'failed to parse platform: unexpected end of JSON input'],
    ['{"architecture"', 'failed to parse platform: unexpected end of JSON input'],
    ['{"architecture":"amd6', 'failed to parse platform: unexpected end of JSON input'],
    ['linux/ams64', "failed to parse platform: invalid character 'l' looking for beginning of value"],
    ['"linux/amd64"', 'failed to parse platform: json: cannot unmarshal string into Go value of type v1.Platform'],
    ['[]', 'failed to parse platform: json: cannot unmarshal array into Go value of type v1.Platform'],
    ['42', 'failed to parse platform: json: cannot unmarshal number into Go value of type v1.Platform'],
    ['{"os":1,"architecture":true}', 'failed to parse platform: json: cannot unmarshal number into Go struct field Platform.os of type string'],
    ['{"os":"linux","architecture":"amd64","os.features":"a"}', 'failed to parse platform: json: cannot unmarshal string into Go struct field Platform.os.features of type []string'],
    ['{"os":"linux","architecture":"amd64","os.features":[1]}', 'failed to parse platform: json: cannot unmarshal number into Go struct field Platform.os.features of type string'],
    ['{}', 'both OS and Architecture must be provided'],
    ['null', 'both OS and Architecture must be provided'],
    ['{"architecture":"amd64","os":""}', 'both OS and Architecture must be provided'],
    ['{"architecture":"","os":"linux"}', 'both OS and Architecture must be provided'],
    ['{"os":"linux","variant":"v7"}', 'both OS and Architecture must be provided'],
    ['{"architecture":"","os":"","variant":"v7"}', 'optional platform fields provided, but OS and Architecture are missing'],
    ['{"os.version":"12.0"}', 'optional platform fields provided, but OS and Architecture are missing'],
    ['{"os.features":["a","b"]}', 'optional platform fields provided, but OS and Architecture are missing'],
    ['{"os.features":[]}', 'both OS and Architecture must be provided'],
  ])('%p fails', (input: string, message: string) => {
    expect(() => parseJsonPlatform(input)).toThrow(new PlatformError(message))
  })
})
