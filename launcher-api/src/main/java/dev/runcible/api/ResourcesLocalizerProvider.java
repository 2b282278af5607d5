package dev.runcible.api;

import java.util.function.Function;

/** Creates {@link ResourcesLocalizer} instances; contributed by a {@link RunciblePlugin} and picked by {@link #name()} in the configuration. */
public interface ResourcesLocalizerProvider {
    String name();

    ResourcesLocalizer create(PluginContext context);

    /** A provider under the given name that creates its ResourcesLocalizer with {@code factory}. */
    static ResourcesLocalizerProvider of(String name, Function<PluginContext, ResourcesLocalizer> factory) {
        return new ResourcesLocalizerProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public ResourcesLocalizer create(PluginContext context) {
                return factory.apply(context);
            }
        };
    }
}
