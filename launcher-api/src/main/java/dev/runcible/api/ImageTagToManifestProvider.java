package dev.runcible.api;

import java.util.function.Function;

/** Creates {@link ImageTagToManifest} instances; contributed by a {@link RunciblePlugin} and picked by {@link #name()} in the configuration. */
public interface ImageTagToManifestProvider {
    String name();

    ImageTagToManifest create(PluginContext context);

    /** A provider under the given name that creates its ImageTagToManifest with {@code factory}. */
    static ImageTagToManifestProvider of(String name, Function<PluginContext, ImageTagToManifest> factory) {
        return new ImageTagToManifestProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public ImageTagToManifest create(PluginContext context) {
                return factory.apply(context);
            }
        };
    }
}
