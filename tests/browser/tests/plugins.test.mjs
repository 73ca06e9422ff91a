// Plugins in the portal, in a real browser: the head of Collège Condorcet enables the example
// plugin (examples/hello-plugin, installed but not enabled by `preau demo --install-only`) in the
// services console after reading what it asks for; a teacher leaves a note for a class; a pupil
// of that class gets the notification, uses the form, and sees the entries. axe-core: no serious
// or critical violation on the console and the plugin's pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, launch, seriousViolations, me, PASSWORD, ROOT } from './support.mjs';

const UAI = '0750652B';
let demo;
let browser;

before(async () => {
  demo = await startDemo(['--install-only', join(ROOT, 'examples', 'hello-plugin')]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

async function assertAccessible(page, what) {
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${what}: accessibility violations`);
}

async function signedIn(login) {
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  await page.goto(`${demo.base}/connexion`);
  await page.getByLabel('Identifiant').fill(login);
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${demo.base}/`);
  return { context, page };
}

test('the head enables the example for the collège; a pupil is notified, writes, and reads', async () => {
  const at = (a, profile) => a.attachments.some((x) => x.uai === UAI && x.profile === profile);
  const head = demo.accounts.find((a) => !a.activation_code && at(a, 'direction'));
  assert.ok(head, 'the demo has a head for the collège');

  // The head: services console, what the plugin asks for, approval, the rights matrix.
  {
    const { context, page } = await signedIn(head.login);
    await page.getByRole('link', { name: 'Services', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /Services de l’établissement/ }).waitFor();
    await assertAccessible(page, 'services console');
    await page.getByRole('link', { name: 'Mots de la classe' }).click();
    await page.getByRole('heading', { level: 2, name: /Ce que la version 0\.1\.0 demande/ }).waitFor();
    await page.getByText('Écrire des mots', { exact: false }).first().waitFor();
    await assertAccessible(page, 'service before approval');
    await page.getByRole('button', { name: 'Approuver et activer la version 0.1.0' }).click();
    await page.getByText('Activé — version 0.1.0').waitFor();
    await page.getByRole('table', { name: /Qui peut faire quoi/ }).waitFor();
    await page.getByText(`${head.login} : enable`).waitFor();
    await assertAccessible(page, 'service enabled, rights matrix');
    await context.close();
  }

  // A pupil of the collège, their class, and a teacher of that class.
  const pupil = demo.accounts.find((a) => !a.activation_code && at(a, 'eleve'));
  const pupilMe = await me(demo.base, pupil.login, PASSWORD);
  const classe = pupilMe.classes.find((c) => c.kind === 'class');
  assert.ok(classe, 'the pupil has a class');
  let teacher;
  for (const a of demo.accounts.filter((x) => !x.activation_code && at(x, 'enseignant'))) {
    const m = await me(demo.base, a.login, PASSWORD);
    if (m.teaching_assignments.some((t) => t.class_group.id === classe.id)) { teacher = a; break; }
  }
  assert.ok(teacher, `a teacher of ${classe.name}`);

  // The teacher leaves a note for the class.
  {
    const { context, page } = await signedIn(teacher.login);
    await page.goto(`${demo.base}/e/${UAI}/apps/exemple/bonjour/ecrire`);
    await page.getByLabel(/Classe/).selectOption(classe.id);
    await page.getByLabel(/Votre mot/).fill('Sortie au musée jeudi : prévoir un pique-nique.');
    await page.getByRole('button', { name: 'Publier' }).click();
    await page.getByText('Sortie au musée jeudi', { exact: false }).waitFor();
    await context.close();
  }

  // The pupil: the bell, the widget, the notification leading to the notes, then their own note.
  {
    const { context, page } = await signedIn(pupil.login);
    await page.getByRole('link', { name: /Notifications 1 non lues/ }).waitFor();
    await page.getByRole('region', { name: /Derniers mots/ }).getByText('Sortie au musée jeudi', { exact: false }).waitFor();
    await assertAccessible(page, 'dashboard with the widget');
    await page.getByRole('link', { name: /Notifications/ }).click();
    await page.locator('strong', { hasText: `Nouveau mot en ${classe.name}` }).waitFor();
    await assertAccessible(page, 'notifications');
    await page.getByRole('button', { name: /Ouvrir/ }).first().click();
    await page.waitForURL(new RegExp(`/e/${UAI}/apps/exemple/bonjour/mots`));
    await page.getByText('Sortie au musée jeudi', { exact: false }).waitFor();
    await assertAccessible(page, 'the class notes');

    // An empty note is refused with the field's error, in the page's language.
    await page.goto(`${demo.base}/e/${UAI}/apps/exemple/bonjour/ecrire`);
    await assertAccessible(page, 'the form');
    await page.getByRole('button', { name: 'Publier' }).click({ noWaitAfter: true });
    // The browser's own `required` check stops an empty submission; bypass it to reach the server.
    await page.evaluate(() => document.querySelectorAll('[required]').forEach((e) => e.removeAttribute('required')));
    await page.getByRole('button', { name: 'Publier' }).click();
    await page.locator('.field-error').first().waitFor();
    await assertAccessible(page, 'the form with an error');
    await page.getByLabel(/Votre mot/).fill('Merci, je viendrai avec ma classe !');
    await page.getByRole('button', { name: 'Publier' }).click();
    await page.getByText('Merci, je viendrai avec ma classe !').waitFor();
    await page.getByText('Sortie au musée jeudi', { exact: false }).waitFor();
    // Read: the bell is quiet.
    assert.equal(await page.getByRole('link', { name: /non lues/ }).count(), 0);
    await context.close();
  }
});
