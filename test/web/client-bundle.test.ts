import test from 'ava';
import vm from 'node:vm';
import { bundleClient } from '../../scripts/client-bundle.ts';
import { clientScript } from '../../src/web/ui/client-script.ts';

test('the browser script, bundled by the build and stripped from source, is a self-contained ASCII script', async (t) => {
  const bundled = await bundleClient();
  for (const [name, js] of [
    ['bundle', bundled],
    ['from source', clientScript()],
  ] as const) {
    t.notThrows(() => new vm.Script(js), `${name} parses as a classic script`);
    t.notRegex(js, /[^\x00-\x7f]/, `${name} is ASCII`);
    t.notRegex(js, /^\s*(import|export)\b/m, `${name} has no module syntax left`);
    t.regex(js, /api\/v1\//, `${name} is the UI script`);
  }
  t.true(bundled.length < clientScript().length * 0.75, 'the bundle is minified');
});
