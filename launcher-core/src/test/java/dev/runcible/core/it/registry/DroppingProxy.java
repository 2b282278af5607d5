package dev.runcible.core.it.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of a real registry that breaks the first connection once it has carried
 * {@code dropAfter} bytes towards the client, as a flaky network would; later connections pass through.
 */
final class DroppingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int target;
    private final long dropAfter;
    private final AtomicBoolean armed = new AtomicBoolean(true);
    final AtomicInteger drops = new AtomicInteger();
    final AtomicInteger connections = new AtomicInteger();

    DroppingProxy(int target, long dropAfter) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.target = target;
        this.dropAfter = dropAfter;
        Thread acceptor = new Thread(this::accept, "dropping-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                connections.incrementAndGet();
                pump(client, upstream, false);
                pump(upstream, client, true);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean towardsClient) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            long carried = 0;
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    out.write(buffer, 0, n);
                    carried += n;
                    if (towardsClient && carried > dropAfter && armed.compareAndSet(true, false)) {
                        drops.incrementAndGet();
                        from.close();
                        to.close();
                        return;
                    }
                }
            } catch (IOException e) {
                // the other direction closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException e) {
                    // closing
                }
            }
        }, "dropping-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
