package dev.runcible.api;

import java.io.InputStream;
import java.net.URI;

/** Opens resource locations of one URI scheme for reading. Thread-safe. */
public interface ResourceFetcher extends PluginComponent {
    InputStream open(URI location) throws ResourceUnavailableException;

    /**
     * Proves, without reading it, that the location may be read by whoever names it: called before a copy the node
     * already holds (fetched for another image, perhaps from another repository) is used for this one. By default
     * there is nothing to prove: a store the operator configured serves every image in it.
     */
    default void checkAccess(URI location) throws RuncibleException {
    }

    /**
     * The location's current length and modification time, for a cache to see a file changed in place; empty when
     * the location cannot change (content-addressed) or its scheme does not say.
     */
    default java.util.Optional<SourceVersion> version(URI location) throws RuncibleException {
        return java.util.Optional.empty();
    }

    /**
     * The location as a regular file of this node, when it is one: a cache on the same filesystem may link it
     * instead of copying its bytes. Empty by default.
     */
    default java.util.Optional<java.nio.file.Path> localFile(URI location) throws RuncibleException {
        return java.util.Optional.empty();
    }
}
