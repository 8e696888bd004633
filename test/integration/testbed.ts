// The integration tests and the case runner share one test bed (harness/vitest/testbed.ts).
export { testbed, testbedQemu, type SourcedQemu, type Testbed } from '../../harness/vitest/testbed.ts';
