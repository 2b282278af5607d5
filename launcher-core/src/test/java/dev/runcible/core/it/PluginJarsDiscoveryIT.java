package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The built jars, alone in a class loader with the API and the toolkit the launcher ships, register their one entry point,
 * {@code RunciblePlugin}, through META-INF/services (written by @AutoService): what a jar dropped into plugins/
 * relies on. The factories of each kind are asked of every entry point found.
 */
class PluginJarsDiscoveryIT {
    private static Path jar(String module) throws Exception {
        Path root = Path.of(System.getProperty("runcible.repository.root", ".."));
        Path target = root.resolve(module).resolve("target");
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> p.getFileName().toString().matches(module + "-[0-9].*\\.jar"))
                    .filter(p -> !p.getFileName().toString().endsWith("-sources.jar"))
                    .findFirst().orElseThrow(() -> new AssertionError("No built jar in " + target
                            + "; run 'mvn verify' from the top"));
        }
    }

    /** What the plugins the loader finds contribute of one kind ({@code spi}), by {@code nameMethod}. */
    private static List<String> names(ClassLoader loader, String spi, String nameMethod) throws Exception {
        Class<?> entryPoint = Class.forName("dev.runcible.api.RunciblePlugin", false, loader);
        String kind = switch (spi) {
            case "ImageTagToManifestProvider" -> "tagToManifest";
            case "ManifestToResourcesProvider" -> "manifestToResources";
            case "ResourcesLocalizerProvider" -> "localizers";
            case "ResourceFetcherProvider" -> "fetchers";
            case "ImageStoreProvider" -> "stores";
            default -> throw new IllegalArgumentException(spi);
        };
        Class<?> type = Class.forName("dev.runcible.api." + spi, false, loader);
        List<String> names = new ArrayList<>();
        for (Object plugin : ServiceLoader.load(entryPoint, loader)) {
            assertThat(plugin.getClass().getClassLoader()).isSameAs(loader);
            for (Object provider : (List<?>) entryPoint.getMethod(kind).invoke(plugin)) {
                names.add((String) type.getMethod(nameMethod).invoke(provider));
            }
        }
        return names;
    }

    @Test
    void builtPluginJarsAreDiscoveredThroughServiceFiles() throws Exception {
        URL[] urls = {jar("launcher-api").toUri().toURL(), jar("plugin-toolkit").toUri().toURL(),
                jar("plugin-local-manifest").toUri().toURL(),
                jar("plugin-squashfs-localizer").toUri().toURL()};
        try (URLClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
            assertThat(names(loader, "ImageTagToManifestProvider", "name")).containsExactly("local");
            assertThat(names(loader, "ManifestToResourcesProvider", "name")).containsExactly("local");
            assertThat(names(loader, "ResourcesLocalizerProvider", "name")).containsExactly("squashfs");
            assertThat(names(loader, "ResourceFetcherProvider", "scheme")).containsExactly("file");
            assertThat(names(loader, "ImageStoreProvider", "scheme")).containsExactly("file");
        }
    }

    @Test
    void jarsInPluginsDirectoryAndOnThePluginPathAreFound(@org.junit.jupiter.api.io.TempDir Path home)
            throws Exception {
        Path plugins = Files.createDirectories(home.resolve("plugins"));
        Files.copy(jar("plugin-local-manifest"), plugins.resolve("local.jar"));
        try (URLClassLoader api = new URLClassLoader(new URL[] {jar("launcher-api").toUri().toURL(),
                jar("plugin-toolkit").toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            ClassLoader fromDirectory = dev.runcible.core.plugin.PluginLoader.create(plugins, null, api);
            assertThat(names(fromDirectory, "ImageTagToManifestProvider", "name")).containsExactly("local");
            assertThat(names(fromDirectory, "ResourcesLocalizerProvider", "name")).isEmpty();
            ClassLoader both = dev.runcible.core.plugin.PluginLoader.create(plugins,
                    "/nonexistent.jar:" + jar("plugin-squashfs-localizer"), api);
            assertThat(names(both, "ResourcesLocalizerProvider", "name")).containsExactly("squashfs");
            assertThat(names(both, "ImageTagToManifestProvider", "name")).containsExactly("local");
        }
    }

    @Test
    void anApiJarAloneHasNoProviders() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar("launcher-api").toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            assertThat(names(loader, "ImageTagToManifestProvider", "name")).isEmpty();
        }
    }
}
