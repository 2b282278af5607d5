package dev.runcible.api;

/** Creates {@link ResourcesLocalizer} instances; found by ServiceLoader and picked by {@link #name()} in the configuration. */
public interface ResourcesLocalizerProvider {
    String name();

    ResourcesLocalizer create(PluginContext context);
}
