package dev.runcible.squashfs;

import dev.runcible.api.DigestMismatchException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A blob stream cut off one byte past the size its descriptor gives: a source that keeps sending is stopped there
 * with a typed error, instead of being read for as long as it streams.
 */
final class SizeBound extends FilterInputStream {
    private final long limit;
    private final String what;
    private long count;

    /** {@code size}: the declared size; {@code what} names the blob in the error. */
    SizeBound(InputStream in, long size, String what) {
        super(in);
        this.limit = size + 1;
        this.what = what;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        int n = super.read(buffer, offset, (int) Math.min(length, limit - count));
        if (n > 0) {
            count += n;
            if (count >= limit) {
                throw new TarLayerConverter.ResourceFailure(new DigestMismatchException("Size mismatch for " + what
                        + ": the source sent more than the " + (limit - 1) + " bytes its descriptor gives; the "
                        + "source serves damaged content, stopped reading there"));
            }
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        return read(new byte[(int) Math.min(n, 8192)], 0, (int) Math.min(n, 8192));
    }

    @Override
    public boolean markSupported() {
        return false;
    }
}
