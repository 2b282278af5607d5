package dev.runcible.core.mount;

import dev.runcible.api.Digest;
import dev.runcible.api.LocalizedResource;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.host.MountTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The node's shared, read-only layer mounts: {@code RUN/layers/HEX} is the one loop mount of layer HEX, used by
 * every container of every image that has it. A layer's reference count is not stored: it is the number of
 * container records that list the layer, so it cannot drift after a crash. Callers hold the run directory lock.
 */
public final class LayerMounts {
    private final Path directory;
    private final Mounter mounter;

    public LayerMounts(Path directory, Mounter mounter) {
        this.directory = directory;
        this.mounter = mounter;
    }

    public Path directory() {
        return directory;
    }

    public Path mountPoint(Digest layer) {
        return directory.resolve(layer.hex());
    }

    /** Makes sure each layer is mounted; returns the mount points top layer first, as overlay wants them. */
    public List<Path> acquire(List<LocalizedResource> layersBaseFirst) throws ContainerRuntimeException {
        Set<String> mounted;
        try {
            mounted = MountTable.under(directory).stream().map(MountTable.Mount::mountPoint)
                    .collect(Collectors.toSet());
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot read the mount table: " + e.getMessage(), e);
        }
        List<Path> topFirst = new ArrayList<>();
        for (LocalizedResource layer : layersBaseFirst) {
            Path target = mountPoint(layer.resource().digest());
            if (!mounted.contains(target.toString())) {
                try {
                    Files.createDirectories(target);
                } catch (IOException e) {
                    throw new ContainerRuntimeException("Cannot create layer mount point " + target + ": "
                            + e.getMessage(), e);
                }
                mounter.mountSquashfs(layer.path(), target);
                mounted.add(target.toString());
            }
            topFirst.add(0, target);
        }
        return topFirst;
    }

    /** Unmounts each candidate layer that no remaining container references. */
    public void release(Collection<Digest> candidates, Set<Digest> stillReferenced) throws ContainerRuntimeException {
        ContainerRuntimeException failure = null;
        for (Digest layer : candidates) {
            if (stillReferenced.contains(layer)) {
                continue;
            }
            Path target = mountPoint(layer);
            try {
                mounter.unmount(target);
                Files.deleteIfExists(target);
            } catch (ContainerRuntimeException e) {
                failure = failure == null ? e : failure;
            } catch (IOException e) {
                failure = failure == null ? new ContainerRuntimeException("Cannot remove " + target + ": "
                        + e.getMessage(), e) : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
