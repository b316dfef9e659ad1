/**
 * `npm run verify [-- --repair]`: checks the filesystem store `npm start` would use (the same
 * EDGEPULL_DATA and EDGEPULL_CONFIG) with src/storage/verify.ts. One line per problem as it
 * is found, then a summary; exit 0 when the store is clean (or every problem was repaired),
 * 1 when problems remain, 2 on bad usage or config. Safe beside a running server: it removes
 * only what is wrong, and never another live process's temp files.
 */
import { readFileSync } from 'node:fs'
import { createFsDriver } from '../storage/fs.ts'
import { verifyStore } from '../storage/verify.ts'
import { problemLine, summaryLine } from '../storage/verify-report.ts'
import { configOrExit } from './config-or-exit.ts'

const USAGE = 'usage: npm run verify [-- --repair]'

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  if (args.some((a) => a !== '--repair')) {
    console.error(USAGE)
    return 2
  }
  const config = configOrExit(process.env, (p) => readFileSync(p, 'utf8'), process.exit)
  // Leftover temp files are reported (and with --repair removed), not cleared unseen.
  const driver = await createFsDriver(config.dataDir, { tidy: false })
  const report = await verifyStore(driver, {
    repair: args.includes('--repair'),
    onProblem: (p) => console.log(problemLine(p)),
  })
  console.log(summaryLine(report))
  return report.clean ? 0 : 1
}

process.exit(await main())
