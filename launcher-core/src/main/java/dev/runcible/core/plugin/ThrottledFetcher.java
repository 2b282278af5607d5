package dev.runcible.core.plugin;

import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.SourceVersion;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * A fetcher slowed to a fixed number of bytes a second, shared by all its transfers, for benchmarks that compare
 * a full copy with lazy layers over a slow link on one machine ({@value #KEY}). Nothing is linked: every byte
 * passes the limit. A transfer is on the emulated link from the moment it is asked for: it ends when the bytes
 * before it and its own have crossed at that speed, or when the real read ends if that is later. The real read's
 * own time overlaps the link's, as a client's work overlaps the arrival of packets on a network.
 */
final class ThrottledFetcher implements ResourceFetcher {
    /** Named for what it is: a benchmark's emulation of a slow store, never a production setting. */
    static final String KEY = "runcible.benchmark-only.fetch-bytes-per-second";
    /** How far a stream's reads may run ahead of the link before it sleeps. */
    private static final long STREAM_SLACK_NANOS = 2_000_000;

    private final ResourceFetcher delegate;
    private final long bytesPerSecond;
    private long nextFreeNanos = System.nanoTime();

    ThrottledFetcher(ResourceFetcher delegate, long bytesPerSecond) {
        this.delegate = delegate;
        this.bytesPerSecond = bytesPerSecond;
    }

    /**
     * Puts {@code bytes}, asked for at {@code startNanos}, on the emulated link after the transfers before them, and
     * returns when they have crossed it.
     */
    private void pace(long bytes, long startNanos) throws InterruptedIOException {
        settle(schedule(bytes, startNanos), 0);
    }

    /** When {@code bytes}, asked for at {@code startNanos}, will have crossed the link after the ones before them. */
    private synchronized long schedule(long bytes, long startNanos) {
        nextFreeNanos = Math.max(nextFreeNanos, startNanos) + bytes * 1_000_000_000L / bytesPerSecond;
        return nextFreeNanos;
    }

    /**
     * Waits until {@code endNanos}, unless that is less than {@code slackNanos} away: a stream's many small reads
     * each sleeping a few microseconds took milliseconds each on a busy node, slower than the link they emulate. A
     * stream settles what it owes at its end.
     */
    private static void settle(long endNanos, long slackNanos) throws InterruptedIOException {
        long wait = endNanos - System.nanoTime();
        if (wait <= slackNanos) {
            return;
        }
        try {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while throttled");
        }
    }

    @Override
    public InputStream open(URI location) throws ResourceUnavailableException {
        return new FilterInputStream(delegate.open(location)) {
            private long endNanos;

            @Override
            public int read() throws IOException {
                long start = System.nanoTime();
                int b = super.read();
                paced(b < 0 ? 0 : 1, start);
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                long start = System.nanoTime();
                int n = super.read(buffer, offset, length);
                paced(Math.max(n, 0), start);
                return n;
            }

            /** Its bytes on the link; at the end of the stream, its last byte across. */
            private void paced(int bytes, long start) throws InterruptedIOException {
                if (bytes > 0) {
                    endNanos = schedule(bytes, start);
                    settle(endNanos, STREAM_SLACK_NANOS);
                } else {
                    settle(endNanos, 0);
                }
            }

            @Override
            public void close() throws IOException {
                settle(endNanos, 0);
                super.close();
            }
        };
    }

    @Override
    public Optional<RandomAccess> openRandomAccess(URI location) throws RuncibleException {
        return delegate.openRandomAccess(location).map(source -> new RandomAccess() {
            @Override
            public long size() {
                return source.size();
            }

            @Override
            public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
                long start = System.nanoTime();
                source.readFully(position, buffer, offset, length);
                pace(length, start);
            }

            @Override
            public void readRange(long position, byte[] buffer, int offset, int length) throws IOException {
                long start = System.nanoTime();
                source.readRange(position, buffer, offset, length);
                pace(length, start);
            }

            @Override
            public void readAll(List<Range> ranges) throws IOException {
                long start = System.nanoTime();
                source.readAll(ranges);
                pace(ranges.stream().mapToLong(r -> r.buffer().length).sum(), start);
            }

            @Override
            public void close() throws IOException {
                source.close();
            }
        });
    }

    @Override
    public Optional<SourceVersion> version(URI location) throws RuncibleException {
        return delegate.version(location);
    }

    @Override
    public void checkAccess(URI location) throws RuncibleException {
        delegate.checkAccess(location);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
