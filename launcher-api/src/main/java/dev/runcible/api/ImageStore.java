package dev.runcible.api;

import java.nio.file.Path;
import java.util.List;

/**
 * Writes images into a store in the Storm/YARN layout. Blobs are written so that no reader ever sees a partial
 * file; {@link #tag} comes last, so an image becomes visible only once all its blobs are in place.
 */
public interface ImageStore extends Closeable {
    /** Where the store is, for messages. */
    String location();

    void putManifest(Digest digest, byte[] bytes) throws RuncibleException;

    void putConfig(Digest digest, byte[] bytes) throws RuncibleException;

    /** Stores a squashfs layer file under the layer digest, recording the squashfs file's own digest. */
    void putLayer(Digest layer, Path squashfs, Digest squashfsDigest) throws RuncibleException;

    /** Points each name at the manifest, moving names that pointed elsewhere. Atomic for readers. */
    void tag(List<String> names, Digest manifest) throws RuncibleException;
}
