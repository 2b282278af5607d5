package dev.runcible.api;

import java.util.List;

/** Resolves image references to manifests. Implementations are thread-safe. */
public interface ImageTagToManifest extends PluginComponent {
    /** The manifest (or index) a reference names, by tag or by digest. */
    ManifestBlob resolve(ImageReference reference) throws RuncibleException;

    /** A manifest of the same repository by digest, as an index entry names it. */
    ManifestBlob fetch(ImageReference reference, Digest digest) throws RuncibleException;

    /** The images this backend can list; empty where listing is not possible (a registry). */
    default List<TagRecord> list() throws RuncibleException {
        return List.of();
    }
}
