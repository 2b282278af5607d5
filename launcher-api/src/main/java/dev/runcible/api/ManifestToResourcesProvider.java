package dev.runcible.api;

import java.util.function.Function;

/** Creates {@link ManifestToResources} instances; contributed by a {@link RunciblePlugin} and picked by {@link #name()} in the configuration. */
public interface ManifestToResourcesProvider {
    String name();

    ManifestToResources create(PluginContext context);

    /** A provider under the given name that creates its ManifestToResources with {@code factory}. */
    static ManifestToResourcesProvider of(String name, Function<PluginContext, ManifestToResources> factory) {
        return new ManifestToResourcesProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public ManifestToResources create(PluginContext context) {
                return factory.apply(context);
            }
        };
    }
}
