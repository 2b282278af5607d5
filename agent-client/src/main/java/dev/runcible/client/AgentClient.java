package dev.runcible.client;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.net.StandardProtocolFamily;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code bin/runcible} starts when a node agent serves {@code RUNCIBLE_AGENT_SOCKET} (default
 * {@code /run/runcible/agent.sock}): it sends the command line and environment to the agent, copies the agent's
 * output to its own stdout and stderr, passes INT, TERM and HUP on for a foreground {@code run}, and exits with the
 * agent's exit code. It loads a few dozen classes of java.base, so a command costs little more than a JVM start.
 *
 * <p>A command the agent does not run, or an agent that does not answer, runs in this JVM instead, as the plain CLI
 * (the launcher's jars are on the class path behind this one).
 */
public final class AgentClient {
    private static final String CLI_MAIN = "dev.runcible.core.cli.Main";
    private static final int LAUNCHER_ERROR = 125;

    private AgentClient() {
    }

    public static void main(String[] args) throws Exception {
        List<String> line = List.of(args);
        String command = AgentProtocol.subcommand(line);
        if (command == null || !AgentProtocol.AGENT_COMMANDS.contains(command)) {
            runInProcess(args);
            return;
        }
        String configured = System.getenv(AgentProtocol.SOCKET_ENV);
        Path socket = configured == null || configured.isBlank() ? AgentProtocol.DEFAULT_SOCKET : Path.of(configured);
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            System.err.println("runcible: the agent at " + socket + " does not answer (" + e.getMessage()
                    + "); running without it. Start it with 'runcible agent' or remove the stale socket.");
            runInProcess(args);
            return;
        }
        String refusal = untrustedServer(channel);
        if (refusal != null) {
            System.err.println("runcible: refusing the agent socket " + socket + ": " + refusal + "; nothing was sent. "
                    + "Remove it, or set " + AgentProtocol.SOCKET_ENV + " to the socket of an agent run by root.");
            Runtime.getRuntime().halt(LAUNCHER_ERROR);
        }
        int code = relay(channel, absoluteConfig(line), command.equals("run"));
        // Everything is written (stdout and stderr are unbuffered here) and no hook is registered: halt skips the
        // orderly shutdown a client has no use for.
        Runtime.getRuntime().halt(code);
    }

    /**
     * Why the process serving the socket is not to be trusted with a command line and its environment, or null if
     * it is: it must run as root or as this client's own user. Anyone may create a socket at a path this client was
     * pointed to.
     */
    static String untrustedServer(SocketChannel channel) {
        try {
            String server = channel.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user().getName();
            if (server.equals("root") || server.equals(System.getProperty("user.name"))) {
                return null;
            }
            return "it is served by user '" + server + "', not by root";
        } catch (IOException | UnsupportedOperationException e) {
            return "its server's credentials cannot be read (" + e.getMessage() + ")";
        }
    }

    /**
     * The part of this process's environment a command needs: {@code RUNCIBLE_CONFIG} (made absolute),
     * {@code RUNCIBLE_PLUGIN_PATH}, and the variables {@code run -e NAME} passes on. Nothing else leaves the client.
     */
    static Map<String, String> environmentFor(List<String> args, Map<String, String> all) {
        Map<String, String> environment = new HashMap<>();
        String config = all.get("RUNCIBLE_CONFIG");
        if (config != null && !config.isBlank()) {
            environment.put("RUNCIBLE_CONFIG", Path.of(config).toAbsolutePath().toString());
        }
        String plugins = all.get("RUNCIBLE_PLUGIN_PATH");
        if (plugins != null) {
            environment.put("RUNCIBLE_PLUGIN_PATH", plugins);
        }
        for (int i = 0; i < args.size() && !args.get(i).equals("--"); i++) {
            String arg = args.get(i);
            String name = null;
            if ((arg.equals("-e") || arg.equals("--env")) && i + 1 < args.size()) {
                name = args.get(++i);
            } else if (arg.startsWith("--env=")) {
                name = arg.substring("--env=".length());
            } else if (arg.startsWith("-e") && arg.length() > 2 && !arg.startsWith("--")) {
                name = arg.substring(2);
            }
            if (name != null && name.indexOf('=') < 0 && all.containsKey(name)) {
                environment.put(name, all.get(name));
            }
        }
        return environment;
    }

    /** Sends the command line, relays output and signals, and returns the exit code. */
    static int relay(SocketChannel channel, List<String> args, boolean forwardSignals) throws IOException {
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(AgentProtocol.output(channel)));
        Map<String, String> environment = environmentFor(args, System.getenv());
        try {
            AgentProtocol.writeRequest(out, new AgentProtocol.Request(args, environment, System.console() != null));
        } catch (IOException e) {
            // An agent that refuses this user answers without reading the request: its answer is still to be read.
        }
        if (forwardSignals) {
            SignalRelay relay = new SignalRelay(out);
            for (String name : List.of("INT", "TERM", "HUP")) {
                try {
                    sun.misc.Signal.handle(new sun.misc.Signal(name), relay);
                } catch (IllegalArgumentException e) {
                    // The JVM keeps this signal for itself here; leave its default.
                }
            }
        }
        Sink stdout = new Sink(new FileOutputStream(FileDescriptor.out));
        Sink stderr = new Sink(new FileOutputStream(FileDescriptor.err));
        DataInputStream in = new DataInputStream(new BufferedInputStream(AgentProtocol.input(channel), 64 * 1024));
        return AgentConnection.relay(in, stdout, stderr);
    }

    /**
     * One of this process's outputs. A reader that went away (a pipe into {@code head}) ends the writing, not the
     * command: the exit code is still waited for, as the plain CLI's print streams do.
     */
    private static final class Sink extends OutputStream {
        private final FileOutputStream target;
        private boolean broken;

        Sink(FileOutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] data, int offset, int length) {
            if (!broken) {
                try {
                    target.write(data, offset, length);
                } catch (IOException e) {
                    broken = true;
                }
            }
        }
    }

    /**
     * Sends each signal the client receives to the agent. A class rather than a lambda: a lambda's first use
     * spins a class at run time, which costs a short-lived client several milliseconds.
     */
    private static final class SignalRelay implements sun.misc.SignalHandler {
        private final DataOutputStream out;

        SignalRelay(DataOutputStream out) {
            this.out = out;
        }

        @Override
        public void handle(sun.misc.Signal signal) {
            byte[] bytes = signal.getName().getBytes(StandardCharsets.US_ASCII);
            synchronized (out) {
                try {
                    AgentProtocol.writeFrame(out, AgentProtocol.SIGNAL, bytes, 0, bytes.length);
                } catch (IOException e) {
                    // The agent has gone; the read loop reports it.
                }
            }
        }
    }

    /** The agent has another working directory: a relative --config becomes absolute here. */
    static List<String> absoluteConfig(List<String> args) {
        List<String> out = new ArrayList<>(args);
        String command = AgentProtocol.subcommand(args);
        for (int i = 0; i < out.size() && !out.get(i).equals(command); i++) {
            if (out.get(i).equals("--config") && i + 1 < out.size()) {
                out.set(i + 1, Path.of(out.get(i + 1)).toAbsolutePath().toString());
                i++;
            } else if (out.get(i).startsWith("--config=")) {
                out.set(i, "--config=" + Path.of(out.get(i).substring("--config=".length())).toAbsolutePath());
            }
        }
        return out;
    }

    /**
     * Runs the plain CLI in this JVM. The client's class path holds only its own jar, so that nothing at startup
     * scans the launcher's jars (a service lookup would open all of them); the launcher's jars are loaded from
     * {@code runcible.home} here, on the rare path that needs them.
     */
    private static void runInProcess(String[] args) throws Exception {
        String home = System.getProperty("runcible.home");
        Path lib = home == null ? null : Path.of(home, "distribution", "target", "runcible", "lib");
        List<URL> jars = new ArrayList<>();
        if (lib != null && Files.isDirectory(lib)) {
            try (DirectoryStream<Path> found = Files.newDirectoryStream(lib, "*.jar")) {
                for (Path jar : found) {
                    jars.add(jar.toUri().toURL());
                }
            }
        }
        ClassLoader loader = new URLClassLoader(jars.toArray(URL[]::new), AgentClient.class.getClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        try {
            Class.forName(CLI_MAIN, true, loader).getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (ClassNotFoundException e) {
            System.err.println("runcible: the launcher's jars are not under " + lib + " (runcible.home)");
            System.exit(LAUNCHER_ERROR);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }
}
