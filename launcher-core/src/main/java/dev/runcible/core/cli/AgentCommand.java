package dev.runcible.core.cli;

import dev.runcible.client.AgentProtocol;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.AgentPolicy;
import dev.runcible.core.plugin.PluginLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "agent", description = "Serve this node's run, exec, ps, kill, rm, wait, logs, events, pull and stats "
        + "from one resident JVM, to root and the users runcible.agent.allowed-users admits; bin/runcible uses it "
        + "while its socket exists. Containers do not depend on it.")
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
        AgentPolicy policy;
        try (Runcible own = main.open()) {
            policy = own.config().agent(); // the configuration is checked once, before anyone connects
        }
        AgentServer server = AgentServer.bind(path, policy, main.configFile(),
                Optional.ofNullable(main.environment().get(PluginLoader.PLUGIN_PATH_ENV)));
        if (policy.admitsOthers()) {
            for (Path dir = server.socket().toAbsolutePath().getParent(); dir != null; dir = dir.getParent()) {
                int mode = (Integer) Files.getAttribute(dir, "unix:mode");
                if ((mode & 0001) == 0 && (policy.socketGroup().isEmpty() || (mode & 0010) == 0)) {
                    main.err().println("runcible agent: warning: " + dir + " (mode " + Integer.toOctalString(mode
                            & 07777) + ") keeps the admitted users from the socket; make it searchable (chmod o+x)");
                    break;
                }
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "runcible-agent-stop"));
        main.err().println("runcible agent: serving " + server.socket() + " (pid " + ProcessHandle.current().pid()
                + "); stop it with SIGTERM");
        server.serve();
        return 0;
    }
}
