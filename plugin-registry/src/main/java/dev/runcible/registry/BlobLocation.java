package dev.runcible.registry;

import dev.runcible.api.Digest;
import dev.runcible.api.InvalidReferenceException;
import dev.runcible.api.ResourceUnavailableException;
import java.net.URI;

/** Where a blob is: {@code registry://HOST[:PORT]/REPOSITORY/blobs/sha256:HEX}. */
record BlobLocation(String registry, String repository, Digest digest) {
    static final String SCHEME = "registry";
    private static final String BLOBS = "/blobs/";

    URI toUri() {
        return URI.create(SCHEME + "://" + registry + "/" + repository + BLOBS + digest);
    }

    static BlobLocation parse(URI uri) throws ResourceUnavailableException {
        String path = uri.getPath();
        int blobs = path == null ? -1 : path.lastIndexOf(BLOBS);
        if (!SCHEME.equals(uri.getScheme()) || uri.getAuthority() == null || blobs <= 1) {
            throw new ResourceUnavailableException("Invalid registry location '" + uri
                    + "': expected registry://HOST/REPOSITORY/blobs/sha256:HEX");
        }
        try {
            return new BlobLocation(uri.getAuthority(), path.substring(1, blobs),
                    Digest.parse(path.substring(blobs + BLOBS.length())));
        } catch (InvalidReferenceException e) {
            throw new ResourceUnavailableException("Invalid registry location '" + uri + "': " + e.getMessage(), e);
        }
    }
}
