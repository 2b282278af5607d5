package dev.runcible.api;

/**
 * Makes resources present and verified on this node. Thread-safe; concurrent calls for one digest fetch it once.
 * Config blobs come back as the JSON file, layers as a file the launcher can loop-mount (squashfs).
 */
public interface ResourcesLocalizer extends Closeable {
    LocalizedResource localize(OciResource resource) throws RuncibleException;
}
