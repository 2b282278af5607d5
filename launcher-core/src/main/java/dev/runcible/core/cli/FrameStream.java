package dev.runcible.core.cli;

import dev.runcible.client.AgentProtocol;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/** Output written as frames of one type; writes from the command's threads are serialized on the wire. */
final class FrameStream extends OutputStream {
    private final DataOutputStream wire;
    private final byte type;
    private boolean gone;

    FrameStream(DataOutputStream wire, byte type) {
        this.wire = wire;
        this.type = type;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /** The client closed the connection: from now on writes and flushes fail. */
    void clientGone() {
        synchronized (wire) {
            gone = true;
        }
    }

    /** Whether the client has gone. */
    boolean isGone() {
        synchronized (wire) {
            return gone;
        }
    }

    /** Fails once the client has gone, so {@link PrintStream#checkError} tells a follower without a write. */
    @Override
    public void flush() throws IOException {
        synchronized (wire) {
            if (gone) {
                throw new IOException("the client has gone");
            }
        }
    }

    /**
     * Once the client has gone every write fails, which a {@link PrintStream} records for
     * {@link PrintStream#checkError}: a command that follows output stops, one that runs a container goes on.
     */
    @Override
    public void write(byte[] buffer, int offset, int length) throws IOException {
        synchronized (wire) {
            if (gone) {
                throw new IOException("the client has gone");
            }
            try {
                AgentProtocol.writeFrame(wire, type, buffer, offset, length);
            } catch (IOException e) {
                gone = true;
                throw e;
            }
        }
    }
}
