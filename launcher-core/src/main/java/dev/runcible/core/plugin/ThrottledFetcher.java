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

    private final ResourceFetcher delegate;
    private final long bytesPerSecond;
    private long nextFreeNanos = System.nanoTime();

    ThrottledFetcher(ResourceFetcher delegate, long bytesPerSecond) {
        this.delegate = delegate;
        this.bytesPerSecond = bytesPerSecond;
    }

    /**
     * Waits until {@code bytes}, asked for at {@code startNanos}, have crossed the emulated link after the
     * transfers before them.
     */
    private void pace(long bytes, long startNanos) throws InterruptedIOException {
        long wait;
        synchronized (this) {
            long now = System.nanoTime();
            nextFreeNanos = Math.max(nextFreeNanos, startNanos) + bytes * 1_000_000_000L / bytesPerSecond;
            wait = nextFreeNanos - now;
        }
        if (wait <= 0) {
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
            @Override
            public int read() throws IOException {
                long start = System.nanoTime();
                int b = super.read();
                pace(1, start);
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                long start = System.nanoTime();
                int n = super.read(buffer, offset, length);
                if (n > 0) {
                    pace(n, start);
                }
                return n;
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
