package dev.runcible.api;

/** What a plugin gets when it is created: its configuration and the fetchers of other plugins. */
public interface PluginContext {
    PluginConfig config();

    /** The fetcher for a URI scheme, from whichever plugin provides it. */
    ResourceFetcher fetcher(String scheme) throws ResourceUnavailableException;
}
