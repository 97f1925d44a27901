#pragma once
// The dashboard's static files (ui/dist), embedded into the binary at build time by
// admin/embed_assets.cmake, which generates the table (static_assets_data.cc in the build
// tree) from every file under ui/dist: no Node.js, xxd or network at build or run time.
#include <cstddef>
#include <string_view>

namespace vigil::admin {

struct StaticAsset {
  std::string_view path;          // URL path, "/index.html", "/assets/index-1a2b3c.js"
  std::string_view content_type;  // from the file extension, e.g. "text/javascript; charset=utf-8"
  std::string_view data;          // the file's bytes
};

// Every embedded asset, in path order; empty when ui/dist held no file at build time.
// Valid for the whole program run.
const StaticAsset* StaticAssetsBegin();
const StaticAsset* StaticAssetsEnd();
// The asset at `path`, or null.
const StaticAsset* FindStaticAsset(std::string_view path);

}  // namespace vigil::admin
