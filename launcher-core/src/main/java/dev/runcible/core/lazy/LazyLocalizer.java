package dev.runcible.core.lazy;

import dev.runcible.api.ConvertedLayer;
import dev.runcible.api.Digest;
import dev.runcible.api.LocalizedResource;
import dev.runcible.api.OciResource;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured localizer, with {@code squashfs.lazy=true}: a squashfs layer the node does not hold, from a store
 * that serves byte ranges and has a chunk list for it, is not fetched but served by its own server process, and
 * comes back as the server's FUSE file, which the launcher loop-mounts as it would the cached file. Everything else
 * (configs, registry layers, layers of stores indexed by no one) goes to the localizer as before.
 */
public final class LazyLocalizer implements ResourcesLocalizer {
    private static final Logger LOG = LoggerFactory.getLogger(LazyLocalizer.class);

    /** The longest a new spare waits for the start of the container whose layer the last one took. */
    public static final long SPARE_AFTER_SECONDS = 10;

    private final ResourcesLocalizer delegate;
    private final LazyLayers layers;
    private final PluginContext plugins;
    private final Supplier<Map<String, String>> settings;
    private volatile boolean keepSpare;
    private boolean closed;
    private Spares.Spare spare;
    private int spares;

    /** {@code settings}: every setting of the launcher, handed to each server it starts. */
    public LazyLocalizer(ResourcesLocalizer delegate, LazyLayers layers, PluginContext plugins,
            Supplier<Map<String, String>> settings) {
        this.delegate = delegate;
        this.layers = layers;
        this.plugins = plugins;
        this.settings = settings;
    }

    @Override
    public LocalizedResource localize(OciResource resource) throws RuncibleException {
        if (resource.kind() != OciResource.Kind.LAYER || resource.format() != OciResource.Format.SQUASHFS
                || resource.contentDigest().isEmpty() || Fuse.unavailable().isPresent()
                || delegate.holds(resource)) {
            return delegate.localize(resource);
        }
        // A ready spare asks the store for the chunk list itself; a new server is started only for a layer that has
        // one.
        Spares.Spare taken = readySpare();
        if (taken == null) {
            if (!indexed(resource)) {
                return delegate.localize(resource);
            }
            taken = takeSpare();
        }
        LazyRequest request = new LazyRequest(resource, settings.get());
        Optional<Path> file;
        try {
            file = layers.serve(request, taken);
        } catch (RuncibleException e) {
            LOG.warn("Fetching layer {} whole: {}", resource.digest().shortHex(), e.getMessage());
            if (taken != null) {
                Spares.stop(taken); // it failed, or did not answer in time
            }
            replenish(request);
            return delegate.localize(resource);
        }
        if (taken != null && !taken.tookLayer()) {
            giveBack(taken); // the layer had a server already, or its store has no chunk list for it
        }
        if (file.isEmpty()) {
            LOG.debug("Layer {} has no chunk list in its store: fetching it whole", resource.digest().shortHex());
            return delegate.localize(resource);
        }
        replenishAfterStart(request, file.get().getParent());
        return new LocalizedResource(resource, file.get(), resource.contentDigest(), true);
    }

    /**
     * Starts the next spare once the container this layer is for has started: when the layer's server says its
     * containers' start-up reads are over ({@code filling}), or is gone, or after {@link #SPARE_AFTER_SECONDS}. A
     * spare started at once, beside the container, slowed that container's start by a quarter, although it warms up
     * at the lowest priority (its JVM's start, mostly).
     */
    private void replenishAfterStart(LazyRequest warmUp, Path layerDir) {
        if (!keepSpare) {
            return;
        }
        Thread waiter = new Thread(() -> {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(SPARE_AFTER_SECONDS);
            while (java.nio.file.Files.isDirectory(layerDir)
                    && !java.nio.file.Files.exists(layerDir.resolve(LazyLayers.FILLING))
                    && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
            replenish(warmUp);
        }, "lazy-spare-after-start");
        waiter.setDaemon(true);
        waiter.start();
    }

    /**
     * Keeps a spare server ready from now on, for a launcher that stays (the node agent, a scheduler embedding
     * Runcible): the next lazy layer is then served by a JVM that has loaded its plugins and reached the store, not
     * by one that starts. The first spare starts after the first lazy layer's container has started; it warms up on
     * that layer's store.
     */
    public void keepSpare() {
        keepSpare = true;
    }

    /** The spare if it is ready now, else none (and it stays). */
    private synchronized Spares.Spare readySpare() {
        Spares.Spare ready = spare != null && spare.ready() ? spare : null;
        if (ready != null) {
            spare = null;
        }
        return ready;
    }

    /** The spare, once it is ready (waiting for one still starting: it is ahead of a new process). */
    private Spares.Spare takeSpare() {
        Spares.Spare candidate;
        synchronized (this) {
            candidate = spare;
            spare = null;
        }
        if (candidate == null) {
            return null;
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (!candidate.ready()) {
            if (!candidate.process().isAlive() || System.nanoTime() > deadline) {
                Spares.stop(candidate);
                return null;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Spares.stop(candidate);
                return null;
            }
        }
        return candidate;
    }

    private synchronized void giveBack(Spares.Spare unused) {
        if (spare == null) {
            spare = unused;
        } else {
            Spares.stop(unused);
        }
    }

    private synchronized void replenish(LazyRequest warmUp) {
        if (keepSpare && spare == null && !closed) {
            try {
                spare = Spares.start(layers, warmUp, ProcessHandle.current().pid(), ++spares);
            } catch (java.io.IOException e) {
                LOG.warn("Cannot start a spare lazy layer server: {}", e.getMessage());
            }
        }
    }

    /** Whether the store has a chunk list for the layer: without one the layer cannot be checked part by part. */
    private boolean indexed(OciResource resource) {
        try (InputStream in = plugins.fetcher(resource.location().getScheme())
                .open(URI.create(resource.location() + ".chunks.sha256"))) {
            return in.read() >= 0;
        } catch (RuncibleException | IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean holds(OciResource resource) throws RuncibleException {
        return delegate.holds(resource);
    }

    @Override
    public Optional<PartialLayer> partial(OciResource resource) throws RuncibleException {
        return delegate.partial(resource);
    }

    @Override
    public long trim(Set<Digest> inUse) throws RuncibleException {
        return delegate.trim(inUse);
    }

    @Override
    public ConvertedLayer convert(InputStream tar, Path target, String what) throws RuncibleException {
        return delegate.convert(tar, target, what);
    }

    @Override
    public void discard(LocalizedResource resource) throws RuncibleException {
        delegate.discard(resource);
    }

    @Override
    public List<Path> localState() {
        return delegate.localState();
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true; // a spare still to start after a container's start never does
            if (spare != null) {
                Spares.stop(spare);
                spare = null;
            }
        }
        delegate.close();
    }
}
