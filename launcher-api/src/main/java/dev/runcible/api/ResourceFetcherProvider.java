package dev.runcible.api;

/** Creates the {@link ResourceFetcher} for one URI scheme; found by ServiceLoader. */
public interface ResourceFetcherProvider {
    /** The URI scheme served, such as {@code file} or {@code hdfs}. */
    String scheme();

    ResourceFetcher create(PluginContext context);
}
