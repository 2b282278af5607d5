package dev.runcible.api;

import java.util.Set;

/**
 * Makes resources present and verified on this node. Thread-safe; concurrent calls for one digest fetch it once.
 * Config blobs come back as the JSON file, layers as a file the launcher can loop-mount (squashfs).
 */
public interface ResourcesLocalizer extends PluginComponent {
    LocalizedResource localize(OciResource resource) throws RuncibleException;

    /**
     * Frees cache space: removes what exceeds the localizer's configured size, least recently used first, never a
     * resource whose digest is in {@code inUse}, and the leftovers of interrupted downloads. Returns the bytes
     * removed.
     */
    default long trim(Set<Digest> inUse) throws RuncibleException {
        return 0;
    }

    /**
     * Converts an uncompressed layer tar (as {@code import dir:} writes one) into the kind of file this localizer
     * mounts, the way it converts registry layers, and writes it to {@code target}.
     */
    default ConvertedLayer convert(java.io.InputStream tar, java.nio.file.Path target, String what)
            throws RuncibleException {
        throw new ResourceUnavailableException("The configured localizer cannot convert layers, needed to import "
                + what + "; use the 'squashfs' localizer");
    }

    /** Drops a cached resource found damaged, so that the next localization fetches it again. */
    default void discard(LocalizedResource resource) throws RuncibleException {
    }

    /**
     * Whether the resource is in the cache now, whole and current, so that {@link #localize} would fetch nothing.
     * By default no: a launcher then never serves the layer part by part.
     */
    default boolean holds(OciResource resource) throws RuncibleException {
        return false;
    }

    /**
     * A new, empty file in the cache's own space for a squashfs layer that a lazy mount fills chunk by chunk, or
     * empty when this localizer keeps no such files.
     */
    default java.util.Optional<PartialLayer> partial(OciResource resource) throws RuncibleException {
        return java.util.Optional.empty();
    }

    /** A layer file being filled: written at any position, published into the cache once whole and verified. */
    interface PartialLayer {
        java.nio.file.Path file();

        /**
         * Moves the file into the cache as the resource's layer, with {@code fileDigest} (which its caller has
         * checked) as its record; returns it as {@link #localize} would.
         */
        LocalizedResource publish(Digest fileDigest) throws RuncibleException;

        /** Deletes the file, as when the layer is no longer wanted. */
        void discard();
    }
}
