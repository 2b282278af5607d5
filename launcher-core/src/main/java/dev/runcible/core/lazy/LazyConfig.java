package dev.runcible.core.lazy;

import dev.runcible.core.config.Settings;

/**
 * The settings of lazy layers, read from the launcher's settings.
 *
 * @param enabled {@code squashfs.lazy}: mount squashfs layers of stores that serve byte ranges (local, hdfs) before
 *     they are on the node, fetching chunks as containers read them; off by default
 * @param fetchTimeoutMillis {@code squashfs.lazy.fetch-timeout-seconds}: how long a read of a missing chunk keeps
 *     trying the store before it fails with EIO (default 30 s)
 * @param fillPauseMillis {@code squashfs.lazy.fill-pause-millis}: how long containers' reads must have paused before
 *     the background fill fetches its next chunk (default 1 s: a starting JVM pauses between its bursts of reads)
 * @param fetchBytes {@code squashfs.lazy.fetch-size}: the most one fetch of a missing chunk reads: it comes with the
 *     missing chunks around it in its part of the file of this size, in one round trip (default 1m; a prefetch
 *     list's runs are read up to 4 MiB at a time, or this if larger; chunks are checked, recorded and prefetched one
 *     by one whatever their size)
 * @param ioUring {@code squashfs.lazy.io-uring}: take the FUSE file's requests through io_uring where the node lets
 *     FUSE servers do so (the kernel's {@code fuse.enable_uring}, off unless the operator turns it on); on by default
 */
public record LazyConfig(boolean enabled, long fetchTimeoutMillis, long fillPauseMillis, int fetchBytes,
        boolean ioUring) {
    public static final String ENABLED = "squashfs.lazy";
    public static final String FETCH_TIMEOUT = "squashfs.lazy.fetch-timeout-seconds";
    public static final String FILL_PAUSE = "squashfs.lazy.fill-pause-millis";
    public static final String FETCH_SIZE = "squashfs.lazy.fetch-size";
    public static final String IO_URING = "squashfs.lazy.io-uring";
    public static final int DEFAULT_FETCH_BYTES = 1 << 20;
    private static final long MAX_FETCH_BYTES = 64 << 20;

    public static LazyConfig from(Settings settings) {
        return new LazyConfig(settings.bool(ENABLED, false),
                settings.integer(FETCH_TIMEOUT, 30, 1, 3600) * 1000L,
                settings.integer(FILL_PAUSE, 1000, 0, 60_000), fetchBytes(settings), settings.bool(IO_URING, true));
    }

    private static int fetchBytes(Settings settings) {
        long bytes = settings.bytes(FETCH_SIZE, DEFAULT_FETCH_BYTES);
        if (bytes < 1 || bytes > MAX_FETCH_BYTES) {
            settings.problem(FETCH_SIZE, "must be a size from 1 to 64m, such as 1m; got " + bytes + " bytes");
            return DEFAULT_FETCH_BYTES;
        }
        return (int) bytes;
    }
}
