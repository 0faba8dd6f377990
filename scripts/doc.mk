# The API reference and help()'s texts, both from the LDoc comments beside
# the code (`---` in lua/lucid, `/*** */` in the binding's C files).
#   make doc       HTML reference into build/doc (index.html), Debian's lua-ldoc;
#                  fails on any LDoc warning, on an entry missing from the HTML
#                  and when lua/lucid/_helpdata.lua is behind the comments
#   make helpdata  regenerates lua/lucid/_helpdata.lua after editing comments
.PHONY: doc helpdata

doc:
	rm -rf build/doc
	@mkdir -p build
	ldoc --fatalwarnings -c scripts/config.ld . > build/ldoc.log 2>&1 || { cat build/ldoc.log; exit 1; }
	$(TOOL_LUA) scripts/help_extract.lua --html build/doc
	$(TOOL_LUA) scripts/help_extract.lua --check lua/lucid/_helpdata.lua
	@echo "the reference: build/doc/index.html"

helpdata:
	$(TOOL_LUA) scripts/help_extract.lua lua/lucid/_helpdata.lua
