package dev.runcible.core.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.ResourceFetcher;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The benchmark-only rate limit: streams and positional reads together stay under the configured rate. */
class ThrottledFetcherTest {
    private static final int BYTES = 1 << 20;

    /** A source of zeros, with positional reads. */
    private static class Zeros implements ResourceFetcher {
        @Override
        public InputStream open(URI location) {
            return new ByteArrayInputStream(new byte[BYTES]);
        }

        @Override
        public Optional<RandomAccess> openRandomAccess(URI location) {
            return Optional.of(new RandomAccess() {
                @Override
                public long size() {
                    return BYTES;
                }

                @Override
                public void readFully(long position, byte[] buffer, int offset, int length) {
                }

                @Override
                public void close() {
                }
            });
        }
    }

    @Test
    void aMebibyteStreamedAndOneReadAtPositionsTakeAsLongAsTheRateSays() throws Exception {
        ThrottledFetcher fetcher = new ThrottledFetcher(new Zeros(), 8L << 20); // 8 MiB/s: 125 ms a MiB
        long started = System.nanoTime();
        try (InputStream in = fetcher.open(URI.create("file:///x"))) {
            assertThat(in.readAllBytes()).hasSize(BYTES);
        }
        try (ResourceFetcher.RandomAccess random = fetcher.openRandomAccess(URI.create("file:///x")).orElseThrow()) {
            for (int i = 0; i < 4; i++) {
                random.readFully(i * (BYTES / 4L), new byte[BYTES / 4], 0, BYTES / 4);
            }
            random.readAll(List.of(new ResourceFetcher.Range(0, new byte[BYTES / 2]),
                    new ResourceFetcher.Range(BYTES / 2, new byte[BYTES / 2])));
            random.readRange(0, new byte[BYTES], 0, BYTES);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        assertThat(seconds).as("4 MiB at 8 MiB/s").isGreaterThanOrEqualTo(0.48).isLessThan(2.5);
    }

    @Test
    void aReadSlowerThanTheLinkIsNotSlowedFurther() throws Exception {
        ResourceFetcher slow = new Zeros() {
            @Override
            public Optional<RandomAccess> openRandomAccess(URI location) {
                RandomAccess zeros = super.openRandomAccess(location).orElseThrow();
                return Optional.of(new RandomAccess() {
                    @Override
                    public long size() {
                        return zeros.size();
                    }

                    @Override
                    public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
                        try {
                            Thread.sleep(1000); // as long as the link takes for the mebibyte
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                    }

                    @Override
                    public void close() {
                    }
                });
            }
        };
        ThrottledFetcher fetcher = new ThrottledFetcher(slow, 1L << 20); // 1 MiB/s
        long started = System.nanoTime();
        try (ResourceFetcher.RandomAccess random = fetcher.openRandomAccess(URI.create("file:///x")).orElseThrow()) {
            random.readFully(0, new byte[BYTES], 0, BYTES);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        assertThat(seconds).as("the link's second overlaps the read's, not added to it").isLessThan(1.6);
    }

    @Test
    void aStreamReadInSmallPiecesTakesTheLinksTimeNotASleepAPiece() throws Exception {
        ThrottledFetcher fetcher = new ThrottledFetcher(new Zeros(), 64L << 20); // 64 MiB/s: 16 ms a MiB
        long started = System.nanoTime();
        byte[] piece = new byte[64];
        long read = 0;
        try (InputStream in = fetcher.open(URI.create("file:///x"))) {
            for (int n = in.read(piece); n >= 0; n = in.read(piece)) {
                read += n;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        assertThat(read).isEqualTo(BYTES);
        // 16,384 reads: a sleep each (at least 50 µs on Linux) would take over 0.8 s.
        assertThat(seconds).as("a mebibyte at 64 MiB/s, in 64-byte reads").isGreaterThanOrEqualTo(0.015)
                .isLessThan(0.5);
    }
}
