package dev.runcible.core.cli;

import dev.runcible.client.AgentProtocol;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "agent", description = "Serve this node's run, ps, kill, rm, wait, logs, pull and stats from one "
        + "resident JVM; bin/runcible uses it while its socket exists. Containers do not depend on it.")
final class AgentCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "Unix socket to serve (default: $RUNCIBLE_AGENT_SOCKET, then /run/runcible/agent.sock).")
    Path socket;

    @Override
    public Integer call() throws Exception {
        Main.requireRoot("agent");
        Path path = socket;
        String configured = main.environment().get(AgentProtocol.SOCKET_ENV);
        if (path == null) {
            path = configured == null || configured.isBlank() ? AgentProtocol.DEFAULT_SOCKET : Path.of(configured);
        }
        AgentServer server = AgentServer.bind(path);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "runcible-agent-stop"));
        main.err().println("runcible agent: serving " + server.socket() + " (pid " + ProcessHandle.current().pid()
                + "); stop it with SIGTERM");
        server.serve();
        return 0;
    }
}
