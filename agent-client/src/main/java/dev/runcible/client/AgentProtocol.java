package dev.runcible.client;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The node agent's wire protocol, over a Unix domain socket, one command line per connection.
 *
 * <pre>
 * client -> agent   request: int MAGIC, int argc, argc strings, int envc, envc strings "K=V", boolean terminal
 *                   then frames: SIGNAL "TERM" (a signal the client received, for a foreground run)
 * agent -> client   frames: STDOUT bytes, STDERR bytes, then one EXIT int
 * </pre>
 *
 * A string is an int byte count and UTF-8 bytes; a frame is a type byte, an int byte count and the bytes. Counts
 * are bounded, so a confused peer gets an error rather than an allocation of gigabytes.
 */
public final class AgentProtocol {
    /** "RCB1": Runcible, version 1 of this protocol. */
    public static final int MAGIC = 0x52434231;
    public static final String SOCKET_ENV = "RUNCIBLE_AGENT_SOCKET";
    public static final Path DEFAULT_SOCKET = Path.of("/run/runcible/agent.sock");
    public static final byte STDOUT = 1;
    public static final byte STDERR = 2;
    public static final byte EXIT = 3;
    public static final byte SIGNAL = 4;
    /**
     * The commands the agent runs. They name no host path relative to the client's working directory (bind
     * mount sources must be absolute), so running them in another process changes nothing; import, gc, doctor
     * and the rest run in the client's own JVM.
     */
    public static final Set<String> AGENT_COMMANDS = Set.of("run", "ps", "kill", "rm", "wait", "logs", "pull",
            "stats", "exec", "events");
    static final int MAX_STRINGS = 65_536;
    static final int MAX_BYTES = 1 << 20;

    private AgentProtocol() {
    }

    /** One command line as the client sends it. */
    public record Request(List<String> args, Map<String, String> environment, boolean terminal) {
        public Request {
            args = List.copyOf(args);
            environment = Map.copyOf(environment);
        }
    }

    /**
     * The subcommand of a command line: the first argument after the global options ({@code --config FILE},
     * {@code --config=FILE}, {@code --debug}), or null when there is none or an option is not one of those.
     */
    public static String subcommand(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--config")) {
                i++;
            } else if (!arg.startsWith("--config=") && !arg.equals("--debug")) {
                return arg.startsWith("-") ? null : arg;
            }
        }
        return null;
    }

    public static void writeRequest(DataOutputStream out, Request request) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(request.args().size());
        for (String arg : request.args()) {
            writeString(out, arg);
        }
        out.writeInt(request.environment().size());
        for (Map.Entry<String, String> entry : request.environment().entrySet()) {
            writeString(out, entry.getKey() + "=" + entry.getValue());
        }
        out.writeBoolean(request.terminal());
        out.flush();
    }

    public static Request readRequest(DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IOException(String.format("not a Runcible agent request (magic %08x, expected %08x): is the "
                    + "client from the same Runcible version?", magic, MAGIC));
        }
        List<String> args = new ArrayList<>();
        for (int i = 0, n = count(in); i < n; i++) {
            args.add(readString(in));
        }
        Map<String, String> environment = new LinkedHashMap<>();
        for (int i = 0, n = count(in); i < n; i++) {
            String entry = readString(in);
            int equals = entry.indexOf('=');
            if (equals > 0) {
                environment.put(entry.substring(0, equals), entry.substring(equals + 1));
            }
        }
        return new Request(args, environment, in.readBoolean());
    }

    /** Writes one frame; callers that write from several threads hold a lock around it. */
    public static void writeFrame(DataOutputStream out, byte type, byte[] data, int offset, int length)
            throws IOException {
        out.writeByte(type);
        out.writeInt(length);
        out.write(data, offset, length);
        out.flush();
    }

    /** A frame read back: its type and bytes. */
    public record Frame(byte type, byte[] data) {
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }

        public int exitCode() throws IOException {
            if (data.length != 4) {
                throw new IOException("malformed exit frame of " + data.length + " bytes");
            }
            return ByteBuffer.wrap(data).getInt();
        }
    }

    /** The next frame, or null at the end of the stream. */
    public static Frame readFrame(DataInputStream in) throws IOException {
        int type = in.read();
        if (type < 0) {
            return null;
        }
        int length = in.readInt();
        if (length < 0 || length > MAX_BYTES) {
            throw new IOException("frame of " + length + " bytes is out of bounds");
        }
        byte[] data = new byte[length];
        in.readFully(data);
        return new Frame((byte) type, data);
    }

    public static byte[] exitPayload(int code) {
        return ByteBuffer.allocate(4).putInt(code).array();
    }

    /**
     * A stream that reads the channel directly. The streams of {@link java.nio.channels.Channels} take the
     * channel's blocking lock for every read and write, so a read blocked waiting for the peer would hold up a
     * write from another thread; a socket channel itself reads and writes concurrently.
     */
    public static InputStream input(SocketChannel channel) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                return length == 0 ? 0 : channel.read(ByteBuffer.wrap(buffer, offset, length));
            }
        };
    }

    /** The writing side of {@link #input}. */
    public static OutputStream output(SocketChannel channel) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] buffer, int offset, int length) throws IOException {
                ByteBuffer bytes = ByteBuffer.wrap(buffer, offset, length);
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
            }
        };
    }

    private static int count(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_STRINGS) {
            throw new IOException("count " + n + " is out of bounds");
        }
        return n;
    }

    private static void writeString(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String readString(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_BYTES) {
            throw new IOException("string of " + length + " bytes is out of bounds");
        }
        byte[] bytes = new byte[length];
        try {
            in.readFully(bytes);
        } catch (EOFException e) {
            throw new IOException("request ended inside a string", e);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
