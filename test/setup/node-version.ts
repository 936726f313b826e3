// Vitest global setup: prints the Node version the suite runs on, once (the project pins Node 24).
export default function printNodeVersion(): void {
  console.log(`maskinporten-broker tests on Node ${process.version}`);
}
