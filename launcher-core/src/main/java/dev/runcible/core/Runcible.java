package dev.runcible.core;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.config.CoreConfig;
import dev.runcible.core.config.ImagePolicy;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.RunDirectory;
import dev.runcible.core.image.ImageResolver;
import dev.runcible.core.lazy.LazyConfig;
import dev.runcible.core.lazy.LazyLayers;
import dev.runcible.core.lazy.LazyLocalizer;
import dev.runcible.core.image.ResolvedImage;
import dev.runcible.core.plugin.Plugins;
import dev.runcible.core.runtime.Runc;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The launcher as a library: configured plugins, the image resolver and the container manager. The CLI is a thin
 * layer over this; a scheduler embedding Runcible in its own JVM uses it directly.
 */
public final class Runcible implements AutoCloseable {
    /** The local store {@code import} writes to by default; the {@code local} plugin reads the same key. */
    public static final String LOCAL_ROOT = "local.root";
    public static final Path DEFAULT_LOCAL_ROOT = Path.of("/var/lib/runcible/store");
    /** The plugin {@code import docker://} and {@code pull} of registry references use. */
    public static final String REGISTRY = "registry";

    private final CoreConfig config;
    private final LazyConfig lazy;
    private final Plugins plugins;
    private final ImageTagToManifest tagToManifest;
    private final ManifestToResources manifestToResources;
    private final ResourcesLocalizer localizer;
    private final ExecutorService executor;
    private final ImageResolver resolver;
    private final Path localStore;
    private final AtomicInteger references = new AtomicInteger(1);
    private ContainerManager containers;

    private Runcible(Settings settings, ClassLoader loader) {
        this.config = CoreConfig.from(settings);
        this.localStore = settings.path(LOCAL_ROOT, DEFAULT_LOCAL_ROOT);
        this.plugins = new Plugins(loader, settings);
        this.tagToManifest = plugins.tagToManifest(CoreConfig.TAG_TO_MANIFEST, config.tagToManifest());
        this.manifestToResources = plugins.manifestToResources(CoreConfig.MANIFEST_TO_RESOURCES,
                config.manifestToResources());
        ResourcesLocalizer configured = plugins.localizer(CoreConfig.LOCALIZER, config.localizer());
        this.lazy = LazyConfig.from(settings);
        this.localizer = lazy.enabled() ? new LazyLocalizer(configured,
                new LazyLayers(config.runDir()), plugins, () -> settings.withPrefix("")) : configured;
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "runcible-localize-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.resolver = new ImageResolver(config.allowedImages(), tagToManifest, manifestToResources, localizer,
                executor);
    }

    /** Builds the launcher; every configuration problem is reported in one exception. */
    public static Runcible open(Settings settings, ClassLoader loader) throws RuncibleException {
        Runcible runcible = new Runcible(settings, loader);
        try {
            settings.check(runcible.plugins.declaredKeys());
        } catch (RuncibleException e) {
            runcible.close();
            throw e;
        }
        return runcible;
    }

    public CoreConfig config() {
        return config;
    }

    /**
     * For a launcher that stays (the node agent, a scheduler embedding Runcible): with lazy layers on, keeps a spare
     * layer server ready, so that a lazy layer's server need not start from nothing ({@link LazyLocalizer}).
     */
    public void keepLazySpare() {
        if (localizer instanceof LazyLocalizer lazyLocalizer) {
            lazyLocalizer.keepSpare();
        }
    }

    /** The settings of lazy layers ({@code squashfs.lazy*}). */
    public LazyConfig lazyConfig() {
        return lazy;
    }

    public ImageResolver images() {
        return resolver;
    }

    public ImageTagToManifest tagToManifest() {
        return tagToManifest;
    }

    /** The configured localizer: it also converts the layers {@code import dir:} writes. */
    public ResourcesLocalizer localizer() {
        return localizer;
    }

    public Plugins plugins() {
        return plugins;
    }

    /** The container manager; runc is looked up on first use, so image commands work without it. */
    public synchronized ContainerManager containers() throws RuncibleException {
        if (containers == null) {
            RunDirectory runDir = new RunDirectory(config.runDir());
            List<Path> state = new ArrayList<>(List.of(localStore));
            state.addAll(tagToManifest.localState());
            state.addAll(manifestToResources.localState());
            state.addAll(localizer.localState());
            containers = new ContainerManager(runDir, resolver, Runc.locate(config.runcBinary(), runDir.runcRoot()),
                    config, localizer, state);
        }
        return containers;
    }

    /**
     * Pulls an image from its registry through the {@code registry} plugin into the node cache (layers converted
     * to squashfs), whatever backend {@code run} is configured with.
     */
    public ResolvedImage pullFromRegistry(ImageReference reference) throws RuncibleException {
        ImageTagToManifest registryTags = plugins.requireTagToManifest(REGISTRY);
        ManifestToResources registryResources = plugins.requireManifestToResources(REGISTRY);
        try {
            return new ImageResolver(ImagePolicy.allowAll(), registryTags, registryResources, localizer, executor)
                    .resolve(reference);
        } finally {
            registryTags.close();
            registryResources.close();
        }
    }

    /** Resolves and localizes with the configured backend, as {@code run} would, without running anything. */
    public ResolvedImage pull(ImageReference reference) throws RuncibleException {
        return new ImageResolver(ImagePolicy.allowAll(), tagToManifest, manifestToResources, localizer, executor)
                .resolve(reference);
    }

    /** What a node collection removed. */
    public record NodeCollected(int halfMadeContainers, int layerMounts, long cacheBytes, int exitedContainers) {
    }

    /**
     * Node garbage collection: exited containers still holding mounts (or, for {@code --rm}, still there) that no
     * launcher waits on, half-made containers, unused layer mounts beyond {@code runcible.layer-mounts.keep},
     * then cache files beyond the localizer's size limit, never one a container or a mount uses.
     */
    public NodeCollected collect() throws RuncibleException {
        ContainerManager manager = containers();
        ContainerManager.Collected collected = manager.collect(config.keepLayerMounts());
        manager.collectLazyLayers();
        Set<Digest> inUse = new HashSet<>(manager.referencedLayers());
        inUse.addAll(manager.layerMounts().mounted());
        long trimmed = localizer.trim(inUse);
        manager.layerMounts().pruneVerified();
        return new NodeCollected(collected.halfMade(), collected.layerMounts(), trimmed, collected.exited());
    }

    public URI defaultStore() {
        return localStore.toUri();
    }

    public ImageStore openStore(URI location) throws RuncibleException {
        return plugins.openStore(location);
    }

    /**
     * Takes another reference to this open launcher, for a holder that closes it on its own (the node agent lends
     * one launcher to many commands): each {@link #close} gives one back, and the last one closes it.
     */
    public Runcible retain() {
        if (references.getAndUpdate(n -> n == 0 ? 0 : n + 1) == 0) {
            throw new IllegalStateException("This launcher is closed");
        }
        return this;
    }

    @Override
    public void close() {
        if (references.getAndUpdate(n -> Math.max(0, n - 1)) != 1) {
            return;
        }
        executor.shutdownNow();
        synchronized (this) {
            if (containers != null) {
                containers.close();
            }
        }
        for (AutoCloseable closeable : new AutoCloseable[] {tagToManifest, manifestToResources, localizer}) {
            if (closeable != null) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    // closing is best effort
                }
            }
        }
        plugins.close();
    }
}
