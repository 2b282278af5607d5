package dev.runcible.squashfs;

import dev.runcible.api.ConvertedLayer;
import dev.runcible.api.Digest;
import dev.runcible.toolkit.FileLocks;
import dev.runcible.toolkit.PrivateDirectory;
import dev.runcible.api.LocalizedResource;
import dev.runcible.api.OciResource;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.SourceVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * The node's content-addressed layer cache. The one class that owns its layout:
 * <pre>
 *   CACHE/layers/HEX.sqsh   squashfs layers, by the manifest's layer digest (tar layers converted on the way)
 *   CACHE/layers/HEX.sqsh.sha256  the squashfs file's own digest, in sha256sum format
 *   CACHE/layers/HEX.sqsh.source  the store file's length and modification time when it was copied; the record's
 *                           own modification time is when the store was last asked
 *   CACHE/config/HEX        image configs, by their digest
 *   CACHE/tmp/              downloads in progress (same filesystem, so publishing is a rename)
 *   CACHE/locks/HEX.lock    one lock file per digest, held while it is fetched
 * </pre>
 * A blob is fetched once per node: concurrent callers in this process share one fetch, other processes wait on
 * the digest's file lock and then find the published file. Digest and size are checked while streaming and the
 * file becomes visible only when whole and verified.
 */
final class SquashfsCache implements ResourcesLocalizer {
    private final Path root;
    private final PluginContext context;
    private final TarLayerConverter converter;
    private final ConcurrentHashMap<Path, CompletableFuture<LocalizedResource>> inFlight = new ConcurrentHashMap<>();

    private final long maxBytes;
    private final SourceCheck sources;
    private volatile boolean rootPrivate;

    SquashfsCache(Path root, PluginContext context, TarLayerConverter converter) {
        this(root, context, converter, 0, 60_000);
    }

    /**
     * {@code sourceCheckMillis}: how long a look at a squashfs layer's store file stays good before the store is
     * asked again whether the file changed (0: at every use).
     */
    SquashfsCache(Path root, PluginContext context, TarLayerConverter converter, long maxBytes,
            long sourceCheckMillis) {
        this.root = root;
        this.context = context;
        this.converter = converter;
        this.maxBytes = maxBytes;
        this.sources = new SourceCheck(root, context, sourceCheckMillis);
    }

    Path pathOf(OciResource resource) {
        return switch (resource.kind()) {
            case CONFIG -> root.resolve("config").resolve(resource.digest().hex());
            case LAYER -> root.resolve("layers").resolve(resource.digest().hex() + ".sqsh");
        };
    }

    @Override
    public ConvertedLayer convert(InputStream tar, Path target, String what) throws RuncibleException {
        TarLayerConverter.Converted converted = converter.convert(tar, OciResource.Format.TAR, target, what,
                Optional.empty());
        try {
            return new ConvertedLayer(converted.digest(), converted.size(), Digest.of(target));
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot read the converted " + what + " at " + target + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public java.util.List<Path> localState() {
        return java.util.List.of(root);
    }

    /**
     * Brings the resource into the cache, or finds it there. A copy this call did not fetch from the resource's own
     * location (cached earlier, or fetched meanwhile for another image) is used only once that location's fetcher
     * grants access to it: for a registry, the image's own repository must serve the blob.
     */
    @Override
    public LocalizedResource localize(OciResource resource) throws RuncibleException {
        LocalizedResource found = find(resource);
        if (!(found.hashedNow() && found.resource().location().equals(resource.location()))) {
            context.fetcher(resource.location().getScheme()).checkAccess(resource.location());
        }
        return found.resource() == resource ? found
                : new LocalizedResource(resource, found.path(), found.fileDigest(), found.hashedNow());
    }

    private LocalizedResource find(OciResource resource) throws RuncibleException {
        Path target = pathOf(resource);
        if (current(resource, target)) {
            touch(target);
            return cached(resource, target);
        }
        CompletableFuture<LocalizedResource> mine = new CompletableFuture<>();
        CompletableFuture<LocalizedResource> running = inFlight.putIfAbsent(target, mine);
        if (running != null) {
            return await(running);
        }
        try {
            mine.complete(fetchLocked(resource, target));
        } catch (RuncibleException | RuntimeException e) {
            mine.completeExceptionally(e);
        } finally {
            inFlight.remove(target, mine);
        }
        return await(mine);
    }

    private static LocalizedResource await(CompletableFuture<LocalizedResource> future) throws RuncibleException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ResourceUnavailableException("Interrupted while waiting for a download", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuncibleException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private LocalizedResource fetchLocked(OciResource resource, Path target) throws RuncibleException {
        Path lockFile = root.resolve("locks").resolve(resource.digest().hex() + ".lock");
        try {
            privateRoot();
            Files.createDirectories(lockFile.getParent());
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = FileLocks.exclusive(channel)) {
                if (current(resource, target)) {
                    return cached(resource, target); // another process fetched it meanwhile
                }
                return fetch(resource, target);
            }
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot use the layer cache at " + root + ": " + e.getMessage()
                    + "; check squashfs.cache.dir is a writable local directory", e);
        }
    }

    private LocalizedResource cached(OciResource resource, Path target) throws ResourceUnavailableException {
        if (resource.kind() == OciResource.Kind.CONFIG) {
            return new LocalizedResource(resource, target, Optional.of(resource.digest()));
        }
        Path record = digestRecord(target);
        try {
            String hex = Files.readString(record, StandardCharsets.US_ASCII).split("\\s+", 2)[0];
            return new LocalizedResource(resource, target, Optional.of(new Digest(Digest.SHA256, hex)));
        } catch (NoSuchFileException e) {
            return new LocalizedResource(resource, target, resource.contentDigest());
        } catch (IOException | IllegalArgumentException e) {
            throw new ResourceUnavailableException("Cannot read " + record + ": " + e.getMessage()
                    + "; remove the cached layer to fetch it again", e);
        }
    }

    /**
     * Marks a cache hit: trimming removes the least recently used files first. A layer's hit is stamped on its
     * digest record, not on the layer: the layer file keeps the identity its last verification saw, so it is not
     * hashed again at its next mount.
     */
    private static void touch(Path file) {
        Path record = digestRecord(file);
        try {
            Files.setLastModifiedTime(Files.exists(record) ? record : file,
                    FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // only the eviction order suffers
        }
    }

    @Override
    public long trim(Set<Digest> inUse) throws RuncibleException {
        try {
            return CacheTrim.trim(root, maxBytes, inUse);
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot trim the layer cache at " + root + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void discard(LocalizedResource resource) throws RuncibleException {
        Path target = pathOf(resource.resource());
        try {
            Files.deleteIfExists(target);
            Files.deleteIfExists(digestRecord(target));
            Files.deleteIfExists(SourceCheck.record(target));
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot remove damaged " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes the cache root's alone (0700), as the run directory is: it holds every tenant's layers and configs. A
     * cache directory found looser is tightened; one of another owner, or a link, is refused. Once per instance.
     */
    private void privateRoot() throws IOException {
        if (!rootPrivate) {
            PrivateDirectory.secure(root);
            rootPrivate = true;
        }
    }

    static Path digestRecord(Path squashfs) {
        return squashfs.resolveSibling(squashfs.getFileName() + ".sha256");
    }

    private LocalizedResource fetch(OciResource resource, Path target) throws RuncibleException, IOException {
        ResourceFetcher fetcher = context.fetcher(resource.location().getScheme());
        // Asked before the copy: a change during it shows as a change at the next look.
        Optional<SourceVersion> version = resource.kind() == OciResource.Kind.LAYER
                && resource.format() == OciResource.Format.SQUASHFS ? fetcher.version(resource.location())
                : Optional.empty();
        Path tmpDir = Files.createDirectories(root.resolve("tmp"));
        Files.createDirectories(target.getParent());
        Path temp = Files.createTempFile(tmpDir, resource.digest().hex() + ".", ".part");
        try {
            Digest fileDigest = BlobTransfer.into(temp, resource, fetcher, converter);
            publish(resource, temp, target, fileDigest, version);
            return new LocalizedResource(resource, target, Optional.of(fileDigest), true);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Makes a whole, verified file the cached copy of {@code resource}: its digest record first, then the file. */
    private void publish(OciResource resource, Path temp, Path target, Digest fileDigest,
            Optional<SourceVersion> version) throws IOException {
        if ((Integer) Files.getAttribute(temp, "unix:nlink") == 1) { // a link keeps the store file's mode
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--r--r--"));
        }
        if (resource.kind() == OciResource.Kind.LAYER) {
            // The record goes first: a published layer always has its digest beside it.
            Path record = Files.createTempFile(temp.getParent(), resource.digest().hex() + ".", ".sha256");
            try {
                Files.writeString(record, fileDigest.hex() + "  " + target.getFileName() + "\n",
                        StandardCharsets.US_ASCII);
                Files.move(record, digestRecord(target), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(record);
            }
        }
        try {
            // Replaces a copy whose store file changed; a container using it keeps its mount of the old one.
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            // Published by someone who did not take the lock; the content is the same digest.
        }
        if (version.isPresent()) {
            sources.record(target, version.get());
        }
    }

    @Override
    public boolean holds(OciResource resource) throws RuncibleException {
        return current(resource, pathOf(resource));
    }

    /** Whether the cache has the resource at {@code target}, and its store file has not changed since. */
    private boolean current(OciResource resource, Path target) throws RuncibleException {
        return Files.exists(target) && !sources.changed(resource, target);
    }

    /**
     * {@code CACHE/tmp/HEX.PID.lazy}, sparse at first: the trim of interrupted downloads removes it once an hour
     * has passed without a write, as when its server was killed.
     */
    @Override
    public Optional<PartialLayer> partial(OciResource resource) throws RuncibleException {
        Path target = pathOf(resource);
        ResourceFetcher fetcher = context.fetcher(resource.location().getScheme());
        try {
            privateRoot();
            Optional<SourceVersion> version = fetcher.version(resource.location());
            Path tmpDir = Files.createDirectories(root.resolve("tmp"));
            Files.createDirectories(target.getParent());
            Path file = Files.createTempFile(tmpDir, resource.digest().hex() + "." + ProcessHandle.current().pid()
                    + ".", ".lazy");
            return Optional.of(new PartialLayer() {
                @Override
                public Path file() {
                    return file;
                }

                @Override
                public LocalizedResource publish(Digest fileDigest) throws RuncibleException {
                    try {
                        SquashfsCache.this.publish(resource, file, target, fileDigest, version);
                    } catch (IOException e) {
                        throw new ResourceUnavailableException("Cannot publish " + file + " as " + target + ": "
                                + e.getMessage(), e);
                    }
                    return new LocalizedResource(resource, target, Optional.of(fileDigest), true);
                }

                @Override
                public void discard() {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException e) {
                        // the trim of interrupted downloads removes it later
                    }
                }
            });
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot use the layer cache at " + root + ": " + e.getMessage()
                    + "; check squashfs.cache.dir is a writable local directory", e);
        }
    }
}
