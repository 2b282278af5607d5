package dev.runcible.core.plugin;

import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;

/** A fetcher whose streams report their progress to a {@link TransferListener}. */
final class ObservedFetcher implements ResourceFetcher {
    private final ResourceFetcher delegate;
    private final TransferListener listener;

    ObservedFetcher(ResourceFetcher delegate, TransferListener listener) {
        this.delegate = delegate;
        this.listener = listener;
    }

    @Override
    public InputStream open(URI location) throws ResourceUnavailableException {
        InputStream in = delegate.open(location);
        listener.started(location);
        return new FilterInputStream(in) {
            private long total;
            private boolean done;

            @Override
            public int read() throws IOException {
                int b = super.read();
                count(b < 0 ? -1 : 1);
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                count(n);
                return n;
            }

            private void count(int n) {
                if (n > 0) {
                    total += n;
                    listener.transferred(location, n);
                } else if (n < 0 && !done) {
                    done = true;
                    listener.finished(location, total, true);
                }
            }

            @Override
            public void close() throws IOException {
                if (!done) {
                    done = true;
                    listener.finished(location, total, false);
                }
                super.close();
            }
        };
    }

    /** Access is the plugin's to grant: observing transfers must not skip its check. */
    @Override
    public java.util.Optional<dev.runcible.api.SourceVersion> version(URI location) throws RuncibleException {
        return delegate.version(location);
    }

    @Override
    public void checkAccess(URI location) throws RuncibleException {
        delegate.checkAccess(location);
    }

    @Override
    public java.util.Optional<RandomAccess> openRandomAccess(URI location) throws RuncibleException {
        return delegate.openRandomAccess(location);
    }

    @Override
    public java.util.Optional<java.nio.file.Path> localFile(URI location) throws RuncibleException {
        return delegate.localFile(location);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
