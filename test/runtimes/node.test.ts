/** The shared runtime cases on Node: the esbuild bundle `npm start` runs. */
import { runtimeCases } from './cases.ts'
import { startNodeServer } from './servers.ts'

runtimeCases('node', startNodeServer, {
  bigBodiesKeepLength: true,
})
