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
 * passes the limit.
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

    /** Waits until {@code bytes} more fit under the limit, counting from the end of the transfers before. */
    private void pace(long bytes) throws InterruptedIOException {
        long wait;
        synchronized (this) {
            long now = System.nanoTime();
            nextFreeNanos = Math.max(nextFreeNanos, now) + bytes * 1_000_000_000L / bytesPerSecond;
            wait = nextFreeNanos - now;
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
                pace(1);
                return super.read();
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                if (n > 0) {
                    pace(n);
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
                source.readFully(position, buffer, offset, length);
                pace(length);
            }

            @Override
            public void readAll(List<Range> ranges) throws IOException {
                source.readAll(ranges);
                pace(ranges.stream().mapToLong(r -> r.buffer().length).sum());
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
