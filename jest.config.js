// Two projects: `unit` needs nothing but Node; `cluster` drives real dockerd/sshd hosts in network
// namespaces (Linux, root) and runs one scenario at a time.
const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  // Jest 30 warns when Pulumi's LocalStore is read after teardown; the warning is noise here.
  testEnvironmentOptions: { globalsCleanup: "off" },
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: "unit",
      setupFilesAfterEnv: ["<rootDir>/test/setup/unit.ts"],
      roots: ["<rootDir>/test"],
      testPathIgnorePatterns: [
        "/node_modules/",
        "<rootDir>/test/cluster/",
        "<rootDir>/test/setup/",
        "<rootDir>/test/program/",
      ],
    },
    {
      ...common,
      displayName: "cluster",
      setupFilesAfterEnv: ["<rootDir>/test/setup/cluster.ts"],
      roots: ["<rootDir>/test/cluster"],
    },
  ],
};
