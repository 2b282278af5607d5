package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What {@code gc} does about lazy layer servers. */
final class LazyCollection {
    private static final Logger LOG = LoggerFactory.getLogger(LazyCollection.class);

    private LazyCollection() {
    }

    /**
     * For {@code gc}, under the run directory lock: a server whose FUSE file no loop device reads any more is
     * stopped; a server that died while its layer is in use ({@code inUse}) is started again, and the new one takes
     * over the loop device; one that died with its layer unused is cleaned away, its mount released first.
     */
    static LazyLayers.Collected collect(LazyLayers layers, Set<Digest> inUse, Consumer<Digest> releaseMount) {
        int stopped = 0;
        int restarted = 0;
        if (Files.isDirectory(layers.directory())) {
            try (Stream<Path> entries = Files.list(layers.directory())) {
                for (Path spare : entries.filter(p -> p.getFileName().toString().startsWith(LazyLayers.SPARE_PREFIX))
                        .toList()) {
                    if (layers.server(spare).isEmpty()) {
                        LazyLayers.remove(spare); // its launcher and the spare are gone
                    }
                }
            } catch (IOException e) {
                LOG.warn("Cannot list {}: {}", layers.directory(), e.getMessage());
            }
        }
        for (Path dir : layers.layerDirectories()) {
            Digest layer = new Digest(Digest.SHA256, dir.getFileName().toString());
            boolean alive = layers.server(dir).isPresent();
            if (!alive) {
                abortConnections(dir);
            }
            boolean read = loopUsers(dir);
            if (alive && !read) {
                layers.stop(layer);
                stopped++;
            } else if (!alive && read && inUse.contains(layer)) {
                try {
                    layers.serve(LazyRequest.read(dir.resolve(LazyLayers.REQUEST)));
                    restarted++;
                } catch (IOException | dev.runcible.api.RuncibleException e) {
                    LOG.warn("Cannot restart the server of lazy layer {}: {}", layer.shortHex(), e.getMessage());
                }
            } else if (!alive) {
                if (read) {
                    releaseMount.accept(layer); // a mount on a dead FUSE file serves no one
                }
                LazyLayers.remove(dir);
                stopped++;
            }
        }
        return new LazyLayers.Collected(stopped, restarted);
    }

    /**
     * Aborts the FUSE connections of a dead server's files ({@link Fuse#abort}): reads pending on them fail now
     * instead of waiting for an answer that will not come, and the loop devices on them can be moved or detached.
     */
    private static void abortConnections(Path dir) {
        try {
            for (Path entry : LazyLayers.fuseFiles(dir)) {
                if (Fuse.abort(entry)) {
                    LOG.info("Aborted the FUSE connection of {}: its server is gone", entry);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot abort the FUSE connections in {}: {}", dir, e.getMessage());
        }
    }

    private static boolean loopUsers(Path dir) {
        try {
            for (Path entry : LazyLayers.fuseFiles(dir)) {
                if (!Loops.backedBy(entry).isEmpty()) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
