package dev.runcible.core.mount;

import dev.runcible.api.Digest;
import dev.runcible.api.DigestMismatchException;
import dev.runcible.api.LocalizedResource;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.lazy.LazyLayers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The node's shared, read-only layer mounts: {@code RUN/layers/HEX} is the one loop mount of layer HEX, used by
 * every container of every image that has it. A layer's reference count is not stored: it is the number of
 * container records that list the layer, so it cannot drift after a crash. Callers hold the run directory lock.
 */
public final class LayerMounts {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LayerMounts.class);
    private final Path directory;
    private final Mounter mounter;
    private final ResourcesLocalizer localizer;
    private final VerifiedLayers verified;
    private final LazyLayers lazy;

    public LayerMounts(Path directory, Mounter mounter, ResourcesLocalizer localizer) {
        this.directory = directory;
        this.mounter = mounter;
        this.localizer = localizer;
        this.verified = new VerifiedLayers(directory);
        this.lazy = new LazyLayers(directory.getParent());
    }

    /** The layers of this node served part by part, each by its server process. */
    public LazyLayers lazy() {
        return lazy;
    }

    public Path directory() {
        return directory;
    }

    public Path mountPoint(Digest layer) {
        return directory.resolve(layer.hex());
    }

    /**
     * Makes sure each layer is mounted; returns the mount points top layer first, as overlay wants them. A layer
     * about to be mounted is checked against its recorded squashfs digest first: the cache is trusted for
     * lookups, not for what the kernel will read. A damaged file is dropped from the cache, to be fetched again.
     * A layer this launch has just fetched was hashed as it was written (read-only, in a root-only cache), and one
     * whose file is unchanged since it was last hashed ({@link VerifiedLayers}) is not read again either.
     */
    public List<Path> acquire(List<LocalizedResource> layersBaseFirst) throws RuncibleException {
        Set<String> mounted;
        try {
            mounted = MountTable.under(directory).stream().map(MountTable.Mount::mountPoint)
                    .collect(Collectors.toSet());
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot read the mount table: " + e.getMessage(), e);
        }
        List<Path> topFirst = new ArrayList<>();
        for (LocalizedResource given : layersBaseFirst) {
            Path target = mountPoint(given.resource().digest());
            if (!mounted.contains(target.toString())) {
                // A lazy layer's server may have completed it (or been stopped) since: localized again, the cache
                // holds it now, or it is served anew.
                LocalizedResource layer = lazy.serves(given.path()) && !LazyLayers.mounted(given.path())
                        ? localizer.localize(given.resource()) : given;
                try {
                    Files.createDirectories(target);
                } catch (IOException e) {
                    throw new ContainerRuntimeException("Cannot create layer mount point " + target + ": "
                            + e.getMessage(), e);
                }
                Optional<String> identity;
                try {
                    identity = verify(layer);
                    mounter.mountSquashfs(layer.path(), target);
                } catch (RuncibleException | RuntimeException e) {
                    removeMountPoint(target); // whatever keep says, a layer that never mounted leaves nothing
                    throw e;
                }
                // Recorded once mounted: a launch that fails to mount leaves nothing in the run directory.
                if (!lazy.serves(layer.path())) { // a lazy layer is checked chunk by chunk as it is read
                    layer.fileDigest().ifPresent(digest -> verified.record(digest, layer.path(), identity));
                }
                mounted.add(target.toString());
            }
            topFirst.add(0, target);
        }
        return topFirst;
    }

    private static void removeMountPoint(Path target) {
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            // not empty, or already gone: left to gc
        }
    }

    /**
     * Hashes the layer's file unless it was hashed as it was written or is unchanged since its last hash; returns
     * the file's identity (read before any hash) for the record, or empty when there is nothing to record.
     */
    private Optional<String> verify(LocalizedResource layer) throws RuncibleException {
        if (layer.fileDigest().isEmpty()) {
            return Optional.empty();
        }
        Digest expected = layer.fileDigest().get();
        Optional<String> identity = VerifiedLayers.identity(layer.path());
        if (layer.hashedNow()) {
            return identity;
        }
        if (verified.unchanged(layer.path(), expected, identity)) {
            return Optional.empty();
        }
        Digest actual;
        try {
            actual = Digest.of(layer.path());
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot read cached layer " + layer.path() + ": " + e.getMessage(),
                    e);
        }
        if (!actual.equals(expected)) {
            verified.forget(expected);
            localizer.discard(layer);
            throw new DigestMismatchException("Cached layer " + layer.path() + " is damaged: its digest is " + actual
                    + ", not " + expected + "; it was removed from the cache, run again to fetch it");
        }
        return identity;
    }

    /** Where the last use of a layer mount is stamped (the mount point itself is a read-only filesystem). */
    private Path usedStamp(Digest layer) {
        return directory.resolve(layer.hex() + ".used");
    }

    /**
     * Stamps each layer's mount as just used, for {@link #trim}'s least-recently-used order. Needs no lock: a
     * container's record, written before its layers are acquired, is what keeps them mounted.
     */
    public void markUsed(List<LocalizedResource> layers) throws ContainerRuntimeException {
        for (LocalizedResource layer : layers) {
            markUsed(layer.resource().digest());
        }
    }

    private void markUsed(Digest layer) throws ContainerRuntimeException {
        try {
            Files.writeString(usedStamp(layer), "");
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot stamp layer mount " + layer.shortHex() + ": " + e.getMessage(),
                    e);
        }
    }

    /**
     * Called when a container is removed: with {@code keep} 0 each of its layers that no other container uses is
     * unmounted at once; otherwise unused mounts stay for the next launch, up to {@code keep} of them.
     */
    public void release(Collection<Digest> candidates, Set<Digest> stillReferenced, int keep)
            throws ContainerRuntimeException {
        if (keep == 0) {
            unmountAll(candidates.stream().filter(d -> !stillReferenced.contains(d)).toList());
        } else {
            trim(stillReferenced, keep);
        }
    }

    /**
     * Unmounts layer mounts no container uses: all whose cached file was evicted (a deleted loop backing file can
     * serve no new container), then the least recently used beyond {@code keep}. Returns how many went.
     */
    public int trim(Set<Digest> referenced, int keep) throws ContainerRuntimeException {
        List<MountTable.Mount> mounts;
        try {
            mounts = MountTable.under(directory).stream().filter(m -> m.fsType().equals("squashfs")).toList();
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot read the mount table: " + e.getMessage(), e);
        }
        List<Digest> evicted = new ArrayList<>();
        List<Digest> idle = new ArrayList<>();
        for (MountTable.Mount mount : mounts) {
            String hex = Path.of(mount.mountPoint()).getFileName().toString();
            if (!Digest.isHex(hex)) {
                continue;
            }
            Digest layer = new Digest(Digest.SHA256, hex);
            if (referenced.contains(layer)) {
                continue;
            }
            (backingFileDeleted(mount.source()) ? evicted : idle).add(layer);
        }
        idle.sort(Comparator.comparingLong(this::lastUsed));
        List<Digest> victims = new ArrayList<>(evicted);
        victims.addAll(idle.subList(0, Math.max(0, idle.size() - keep)));
        unmountAll(victims);
        return victims.size();
    }

    /** {@link LazyLayers#collect}, releasing the layer mount a dead, unused server leaves. */
    public LazyLayers.Collected collectLazy(Set<Digest> referenced) {
        return lazy.collect(referenced, layer -> {
            try {
                unmountAll(List.of(layer));
            } catch (ContainerRuntimeException e) {
                LOG.warn("Cannot release the mount of lazy layer {}: {}", layer.shortHex(), e.getMessage());
            }
        });
    }

    /** Drops the verification records of cached files that are gone (for {@code gc}, after the cache's trim). */
    public int pruneVerified() {
        return verified.prune();
    }

    /** The layers mounted now. */
    public Set<Digest> mounted() throws ContainerRuntimeException {
        try {
            return MountTable.under(directory).stream()
                    .map(m -> Path.of(m.mountPoint()).getFileName().toString()).filter(Digest::isHex)
                    .map(hex -> new Digest(Digest.SHA256, hex)).collect(Collectors.toSet());
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot read the mount table: " + e.getMessage(), e);
        }
    }

    private long lastUsed(Digest layer) {
        try {
            return Files.getLastModifiedTime(usedStamp(layer)).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The kernel marks a loop device's backing file "(deleted)" once its last name is gone. */
    static boolean backingFileDeleted(String device) {
        if (!device.startsWith("/dev/loop")) {
            return false;
        }
        Path backing = Path.of("/sys/block", device.substring("/dev/".length()), "loop", "backing_file");
        try {
            return Files.readString(backing).strip().endsWith("(deleted)");
        } catch (IOException e) {
            return false;
        }
    }

    private void unmountAll(Collection<Digest> layers) throws ContainerRuntimeException {
        ContainerRuntimeException failure = null;
        for (Digest layer : layers) {
            Path target = mountPoint(layer);
            try {
                mounter.unmount(target);
                lazy.stop(layer);
                Files.deleteIfExists(target);
                Files.deleteIfExists(usedStamp(layer));
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
