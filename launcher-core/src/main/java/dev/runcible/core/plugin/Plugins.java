package dev.runcible.core.plugin;

import dev.runcible.api.ConfigurationException;
import dev.runcible.api.ImageStore;
import dev.runcible.api.ImageStoreProvider;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.ImageTagToManifestProvider;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.ManifestToResourcesProvider;
import dev.runcible.api.PluginConfig;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceFetcherProvider;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.ResourcesLocalizerProvider;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.RunciblePlugin;
import dev.runcible.core.config.Settings;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plugins found by ServiceLoader (one {@link RunciblePlugin} entry point per jar), and the factories they
 * contribute, by name (or URI scheme for fetchers and stores). One call site per SPI. A
 * provider that fails to load is reported and skipped; two providers of one name are a configuration problem.
 */
public final class Plugins implements PluginContext {
    private static final Logger LOG = LoggerFactory.getLogger(Plugins.class);

    private final Settings settings;
    private final Map<String, ImageTagToManifestProvider> tagToManifest;
    private final Map<String, ManifestToResourcesProvider> manifestToResources;
    private final Map<String, ResourcesLocalizerProvider> localizers;
    private final Map<String, ResourceFetcherProvider> fetcherProviders;
    private final Map<String, ImageStoreProvider> stores;
    private final Map<String, ResourceFetcher> fetchers = new ConcurrentHashMap<>();
    private final java.util.Set<String> declaredKeys = new java.util.TreeSet<>();
    private volatile TransferListener listener;
    private final long fetchBytesPerSecond;

    public Plugins(ClassLoader loader, Settings settings) {
        this.settings = settings;
        this.fetchBytesPerSecond = settings.bytes(ThrottledFetcher.KEY, 0);
        List<RunciblePlugin> plugins = discover(loader);
        plugins.forEach(plugin -> declaredKeys.addAll(plugin.settings()));
        this.tagToManifest = index(plugins, RunciblePlugin::tagToManifest, ImageTagToManifestProvider::name,
                "ImageTagToManifestProvider");
        this.manifestToResources = index(plugins, RunciblePlugin::manifestToResources,
                ManifestToResourcesProvider::name, "ManifestToResourcesProvider");
        this.localizers = index(plugins, RunciblePlugin::localizers, ResourcesLocalizerProvider::name,
                "ResourcesLocalizerProvider");
        this.fetcherProviders = index(plugins, RunciblePlugin::fetchers, ResourceFetcherProvider::scheme,
                "ResourceFetcherProvider");
        this.stores = index(plugins, RunciblePlugin::stores, ImageStoreProvider::scheme, "ImageStoreProvider");
    }

    /** Every plugin jar's entry point; one that fails to load is reported and skipped. */
    private static List<RunciblePlugin> discover(ClassLoader loader) {
        List<RunciblePlugin> found = new ArrayList<>();
        var iterator = ServiceLoader.load(RunciblePlugin.class, loader).iterator();
        while (true) {
            try {
                if (!iterator.hasNext()) {
                    return found;
                }
                found.add(iterator.next());
            } catch (ServiceConfigurationError e) {
                LOG.warn("Skipping a plugin that failed to load: {}", e.getMessage());
            }
        }
    }

    /** The factories of one kind from every plugin, by name; two of one name are a configuration problem. */
    private <T> Map<String, T> index(List<RunciblePlugin> plugins, Function<RunciblePlugin, List<T>> kind,
            Function<T, String> name, String what) {
        Map<String, T> found = new TreeMap<>();
        for (RunciblePlugin plugin : plugins) {
            for (T provider : kind.apply(plugin)) {
                String key = name.apply(provider);
                T previous = found.putIfAbsent(key, provider);
                if (previous != null) {
                    settings.problem("two plugins provide " + what + " '" + key + "': " + plugin.getClass().getName()
                            + " and another; remove one of their jars");
                }
            }
        }
        return found;
    }

    /** The configuration keys (and key prefixes ending in '.') that the installed plugins declare. */
    public java.util.Set<String> declaredKeys() {
        return java.util.Collections.unmodifiableSet(declaredKeys);
    }

    @Override
    public PluginConfig config() {
        return settings;
    }

    public ImageTagToManifest tagToManifest(String key, String name) {
        ImageTagToManifestProvider provider = pick(tagToManifest, key, name, "image backend");
        return provider == null ? null : provider.create(this);
    }

    public ManifestToResources manifestToResources(String key, String name) {
        ManifestToResourcesProvider provider = pick(manifestToResources, key, name, "image backend");
        return provider == null ? null : provider.create(this);
    }

    public ResourcesLocalizer localizer(String key, String name) {
        ResourcesLocalizerProvider provider = pick(localizers, key, name, "localizer");
        return provider == null ? null : provider.create(this);
    }

    private <T> T pick(Map<String, T> providers, String key, String name, String what) {
        T provider = providers.get(name);
        if (provider == null) {
            settings.problem(key, "names no " + what + " '" + name + "'. Available: " + providers.keySet());
        }
        return provider;
    }

    @Override
    public ResourceFetcher fetcher(String scheme) throws ResourceUnavailableException {
        ResourceFetcherProvider provider = scheme == null ? null : fetcherProviders.get(scheme);
        if (provider == null) {
            throw new ResourceUnavailableException("No plugin fetches '" + scheme + ":' locations. Available "
                    + "schemes: " + fetcherProviders.keySet() + "; add the plugin jar for that scheme");
        }
        ResourceFetcher fetcher = fetchers.computeIfAbsent(scheme, s -> throttled(provider.create(this)));
        TransferListener current = listener;
        return current == null ? fetcher : new ObservedFetcher(fetcher, current);
    }

    private ResourceFetcher throttled(ResourceFetcher fetcher) {
        return fetchBytesPerSecond > 0 ? new ThrottledFetcher(fetcher, fetchBytesPerSecond) : fetcher;
    }

    /** Reports the progress of every transfer from now on (progress bars); null to stop. */
    public void observeTransfers(TransferListener listener) {
        this.listener = listener;
    }

    /** A tag-to-manifest backend by name, for commands that name their source (pull from, import from). */
    public ImageTagToManifest requireTagToManifest(String name) throws ConfigurationException {
        return require(tagToManifest, name, "image backend").create(this);
    }

    public ManifestToResources requireManifestToResources(String name) throws ConfigurationException {
        return require(manifestToResources, name, "image backend").create(this);
    }

    private static <T> T require(Map<String, T> providers, String name, String what) throws ConfigurationException {
        T provider = providers.get(name);
        if (provider == null) {
            throw new ConfigurationException(List.of("no " + what + " '" + name + "' is installed. Available: "
                    + providers.keySet() + "; add the plugin's jar to plugins/ or RUNCIBLE_PLUGIN_PATH"));
        }
        return provider;
    }

    public ImageStore openStore(URI location) throws RuncibleException {
        ImageStoreProvider provider = location.getScheme() == null ? null : stores.get(location.getScheme());
        if (provider == null) {
            throw new ResourceUnavailableException("No plugin writes image stores at '" + location
                    + "'. Available schemes: " + stores.keySet());
        }
        return provider.open(location, this);
    }

    public Map<String, ?> providers(String spi) {
        return switch (spi) {
            case "tag-to-manifest" -> tagToManifest;
            case "manifest-to-resources" -> manifestToResources;
            case "localizer" -> localizers;
            case "fetcher" -> fetcherProviders;
            case "store" -> stores;
            default -> throw new IllegalArgumentException(spi);
        };
    }

    public void close() {
        fetchers.values().forEach(ResourceFetcher::close);
    }
}
