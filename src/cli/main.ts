/**
 * @module The `kites` command: dispatches to a subcommand.
 */
const USAGE = `kites — a Kubernetes-compatible container orchestrator

Usage:
  kites server [--data-dir DIR] [--port N] [--bind-address ADDR] [--datastore URL] [--disable-agent]
  kites agent --server URL (--token T | --token-file F) [--node-name N] [--node-ip IP] [--pod-cidr CIDR]
  kites image import FILE... | ls | rm REF... | inspect REF [--data-dir DIR]
  kites sim nodes --count N [--zones Z] [--kubeconfig FILE]
  kites version

Run 'kites <command> --help' for a command's flags.`;

const [cmd, ...args] = process.argv.slice(2);
switch (cmd) {
  case "server": {
    const { serverCommand } = await import("./server.ts");
    await serverCommand(args);
    break;
  }
  case "agent": {
    const { agentCommand } = await import("./agent-command.ts");
    await agentCommand(args);
    break;
  }
  case "image": {
    const { imageCommand } = await import("./image.ts");
    await imageCommand(args);
    break;
  }
  case "sim": {
    const { simCommand } = await import("./sim.ts");
    await simCommand(args);
    break;
  }
  case "version": {
    const { versionInfo } = await import("../apiserver/discovery.ts");
    console.log(`kites ${versionInfo().gitVersion}`);
    break;
  }
  case undefined:
  case "help":
  case "--help":
  case "-h":
    console.log(USAGE);
    break;
  default:
    console.error(`kites: unknown command "${cmd}"\n\n${USAGE}`);
    process.exit(2);
}
