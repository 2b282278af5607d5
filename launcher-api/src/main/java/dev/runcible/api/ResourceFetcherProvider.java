package dev.runcible.api;

import java.util.function.Function;

/** Creates the {@link ResourceFetcher} for one URI scheme, contributed by a {@link RunciblePlugin}. */
public interface ResourceFetcherProvider {
    /** The URI scheme served, such as {@code file} or {@code hdfs}. */
    String scheme();

    ResourceFetcher create(PluginContext context);

    /** A provider under the given scheme that creates its ResourceFetcher with {@code factory}. */
    static ResourceFetcherProvider of(String scheme, Function<PluginContext, ResourceFetcher> factory) {
        return new ResourceFetcherProvider() {
            @Override
            public String scheme() {
                return scheme;
            }

            @Override
            public ResourceFetcher create(PluginContext context) {
                return factory.apply(context);
            }
        };
    }
}
