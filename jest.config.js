// Two suites: "unit" (pure core + program under Pulumi's mock engine, no daemons) and
// "integration" (real Docker engine and real Caddy, started by test/machinery/runtime-env.sh).
const tsJest = { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] };
module.exports = {
  // Mock-engine runs of 50-tenant rosters take seconds; real-runtime tests take minutes.
  testTimeout: 300000,
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform: tsJest,
      testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/test/program/**/*.test.ts"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      transform: tsJest,
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
    },
  ],
};
