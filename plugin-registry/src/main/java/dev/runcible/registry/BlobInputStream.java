package dev.runcible.registry;

import dev.runcible.api.RuncibleException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A blob download that survives broken connections: after a read fails it asks again from the byte it got to
 * ({@code Range: bytes=N-}), up to the client's bound on tries. A registry that ignores the range answers 200 and
 * the bytes already read are skipped. The caller verifies the digest of the whole.
 */
final class BlobInputStream extends InputStream {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(?:\\d+|\\*)");
    private static final System.Logger LOG = System.getLogger(BlobInputStream.class.getName());

    private final RegistryClient client;
    private final BlobLocation location;
    private RegistryClient.Response response;
    private long position;
    private int resumes;

    BlobInputStream(RegistryClient client, BlobLocation location) throws RuncibleException {
        this.client = client;
        this.location = location;
        this.response = client.blob(location.registry(), location.repository(), location.digest(), 0);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        while (true) {
            try {
                int n = response.body().read(buffer, offset, length);
                if (n > 0) {
                    position += n;
                }
                return n;
            } catch (IOException e) {
                resume(e);
            }
        }
    }

    private void resume(IOException cause) throws IOException {
        RegistryClient.closeQuietly(response);
        if (++resumes >= client.maxTries()) {
            throw new IOException("Tried to pull blob " + location.digest() + " from " + location.registry() + "/"
                    + location.repository() + " but the connection broke " + resumes + " times, last at byte "
                    + position + ": " + RegistryClient.describe(cause), cause);
        }
        LOG.log(System.Logger.Level.INFO, "Connection broke at byte {0} of {1}; resuming ({2})", position,
                location.digest(), RegistryClient.describe(cause));
        try {
            response = client.blob(location.registry(), location.repository(), location.digest(), position);
        } catch (RuncibleException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (response.status() == 206) {
            Optional<String> range = response.header("Content-Range");
            Matcher m = range.map(CONTENT_RANGE::matcher).filter(Matcher::matches).orElse(null);
            if (m == null || Long.parseLong(m.group(1)) != position) {
                throw new IOException("Tried to resume blob " + location.digest() + " at byte " + position
                        + " but the registry sent " + range.orElse("no Content-Range"));
            }
        } else {
            response.body().skipNBytes(position); // the whole blob again: drop what we already have
        }
    }

    @Override
    public void close() throws IOException {
        response.close();
    }
}
