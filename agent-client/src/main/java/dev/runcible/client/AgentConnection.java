package dev.runcible.client;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The node agent for a program that embeds it (a scheduler's container manager running as an unprivileged service
 * user): one command line per call, output to streams or collected, and the event stream line by line. Uses
 * java.base only, so it brings nothing onto its host's class path.
 *
 * <p>Every connection first checks that the process serving the socket runs as root (or as this process's own
 * user), from the socket's peer credentials, before it sends anything.
 */
public final class AgentConnection {
    private static final int LAUNCHER_ERROR = 125;
    private final Path socket;
    private final List<String> globalOptions;

    public AgentConnection(Path socket) {
        this(socket, List.of());
    }

    /**
     * @param globalOptions put before every command line, such as {@code --config FILE} (an agent applies its own
     *     configuration to callers other than root whatever they send)
     */
    public AgentConnection(Path socket, List<String> globalOptions) {
        this.socket = socket;
        this.globalOptions = List.copyOf(globalOptions);
    }

    /** The default socket, or {@code $RUNCIBLE_AGENT_SOCKET}. */
    public static AgentConnection fromEnvironment() {
        String configured = System.getenv(AgentProtocol.SOCKET_ENV);
        return new AgentConnection(configured == null || configured.isBlank() ? AgentProtocol.DEFAULT_SOCKET
                : Path.of(configured));
    }

    public Path socket() {
        return socket;
    }

    /** What a command line printed and its exit code. */
    public record Result(int exitCode, String out, String err) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs a command line ({@code run -d ...}, {@code ps --json}, {@code exec ...}) and collects its output. */
    public Result call(List<String> args, Map<String, String> environment) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = stream(args, environment, out, err);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs a command line with its output copied to {@code out} and {@code err} as it comes; returns its code. */
    public int stream(List<String> args, Map<String, String> environment, OutputStream out, OutputStream err)
            throws IOException {
        try (SocketChannel channel = open()) {
            send(channel, args, environment);
            return relay(new DataInputStream(new BufferedInputStream(AgentProtocol.input(channel), 64 * 1024)), out,
                    err);
        }
    }

    /**
     * Follows {@code events --json} ({@code --since} when given) on a thread of its own, passing each line to
     * {@code lines}; {@code ended} gets the exit code once the stream ends (the agent stopped: reconnect with the
     * time of the last event seen). Closing the handle ends it.
     */
    public Closeable events(String since, Consumer<String> lines, Consumer<Integer> ended) throws IOException {
        List<String> args = new ArrayList<>(List.of("events", "--json"));
        if (since != null) {
            args.addAll(List.of("--since", since));
        }
        SocketChannel channel = open();
        try {
            send(channel, args, Map.of());
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        OutputStream splitter = new LineSplitter(lines);
        Thread follower = new Thread(() -> {
            int code = LAUNCHER_ERROR;
            try {
                code = relay(new DataInputStream(new BufferedInputStream(AgentProtocol.input(channel))), splitter,
                        OutputStream.nullOutputStream());
            } catch (IOException e) {
                // closed, by the handle or by the agent
            } finally {
                try {
                    channel.close();
                } catch (IOException e) {
                    // closing is best effort
                }
                ended.accept(code);
            }
        }, "runcible-agent-events");
        follower.setDaemon(true);
        follower.start();
        return channel::close;
    }

    private SocketChannel open() throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            String refusal = AgentClient.untrustedServer(channel);
            if (refusal != null) {
                throw new IOException("refusing the agent socket " + socket + ": " + refusal);
            }
            return channel;
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    private void send(SocketChannel channel, List<String> args, Map<String, String> environment)
            throws IOException {
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(AgentProtocol.output(channel)));
        List<String> line = new ArrayList<>(globalOptions);
        line.addAll(args);
        try {
            AgentProtocol.writeRequest(out, new AgentProtocol.Request(line, environment, false));
        } catch (IOException e) {
            // An agent that refuses this user answers without reading the request: its answer is still to be read.
        }
    }

    /** Copies STDOUT and STDERR frames on until the EXIT frame, and returns its code. */
    static int relay(DataInputStream in, OutputStream out, OutputStream err) throws IOException {
        for (AgentProtocol.Frame frame; (frame = AgentProtocol.readFrame(in)) != null; ) {
            switch (frame.type()) {
                case AgentProtocol.STDOUT -> out.write(frame.data());
                case AgentProtocol.STDERR -> err.write(frame.data());
                case AgentProtocol.EXIT -> {
                    out.flush();
                    err.flush();
                    return frame.exitCode();
                }
                default -> throw new IOException("unknown frame type " + frame.type() + " from the agent");
            }
        }
        err.write("runcible: the agent closed the connection before the command finished; see its log\n"
                .getBytes(StandardCharsets.UTF_8));
        return LAUNCHER_ERROR;
    }

    /** Bytes in, whole lines out (without their newline). */
    private static final class LineSplitter extends OutputStream {
        private final Consumer<String> lines;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineSplitter(Consumer<String> lines) {
            this.lines = lines;
        }

        @Override
        public void write(int b) {
            if (b == '\n') {
                lines.accept(line.toString(StandardCharsets.UTF_8));
                line.reset();
            } else {
                line.write(b);
            }
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            for (int i = offset; i < offset + length; i++) {
                write(bytes[i]);
            }
        }
    }
}
