package dev.runcible.core.cli;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * A socket someone else put where a client looks for the agent: {@code AgentIT} runs it as an unprivileged user. It
 * accepts one connection, reads until the client closes it, and prints how many bytes the client sent.
 */
public final class ForeignListener {
    private ForeignListener() {
    }

    public static void main(String[] args) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(Path.of(args[0])));
            System.out.println("listening");
            try (SocketChannel client = server.accept()) {
                long total = 0;
                ByteBuffer buffer = ByteBuffer.allocate(8192);
                for (int n; (n = client.read(buffer)) >= 0; buffer.clear()) {
                    total += n;
                }
                System.out.println("received " + total);
            }
        }
    }
}
