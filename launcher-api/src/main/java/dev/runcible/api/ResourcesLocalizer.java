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
}
