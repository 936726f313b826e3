// The test files that need Python (moto's local AWS, cfn-lint, botocore): `npm run test:unit` runs all the others.
export const PYTHON_SUITES = [
  "test/deploy/artifact.test.ts",
  "test/deploy/deployment-guide.test.ts",
  "test/deploy/infra.test.ts",
  "test/deploy/perimeter.test.ts",
  "test/deploy/prerequisites.test.ts",
  "test/deploy/stage-names.test.ts",
  "test/deploy/template.test.ts",
  "test/dev/python-caller.test.ts",
  "test/dev/start-modes.test.ts",
  "test/integration/faults-signing.test.ts",
  "test/integration/jwks-cli.test.ts",
  "test/integration/kms-signer.test.ts",
  "test/integration/pseudonym-key.test.ts",
  "test/integration/secrets-manager-signer.test.ts",
];

/** What a test file uses when it needs Python: moto's endpoint, the deploy into moto, a Python tool it runs. */
export const NEEDS_PYTHON =
  /from "(?:\.\.\/support\/aws|\.\/deploy-stack|\.\/aws-cli-check)\.ts"|\(\s*"(?:python3|cfn-lint)",\s*\[/;
