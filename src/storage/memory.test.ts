import { driverConformance } from '../../test/storage-conformance.ts'
import { createMemoryDriver } from './memory.ts'

driverConformance('memory', async () => ({ driver: createMemoryDriver() }))
