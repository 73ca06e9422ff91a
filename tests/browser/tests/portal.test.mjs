// The portal in a real browser: a parent's first connection and dashboard, and the accessibility
// of every core page (axe-core: no serious or critical violation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launch, seriousViolations, me, PASSWORD } from './support.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo();
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

async function signIn(page, login, password) {
  await page.goto(`${demo.base}/connexion`);
  await page.getByLabel('Identifiant').fill(login);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}

test('a parent activates their account, accepts the charter and sees each child', async () => {
  const parent = demo.accounts.find((a) => a.activation_code
    && a.attachments.some((x) => x.profile === 'parent'));
  assert.ok(parent, 'the demo leaves a parent account to activate');
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();

  await page.goto(`${demo.base}/premiere-connexion`);
  await assertAccessible(page, 'first connection');
  const newPassword = 'Cartable-Rouge-7';
  await page.getByLabel('Identifiant').fill(parent.login);
  await page.getByLabel('Code d\'activation').fill(parent.activation_code.toLowerCase());
  await page.getByLabel('Nouveau mot de passe').fill(newPassword);
  await page.getByLabel('Confirmez le mot de passe').fill(newPassword);
  await page.getByLabel('J\'ai lu la charte d\'utilisation et je l\'accepte.').check();
  await page.getByRole('button', { name: 'Activer mon compte' }).click();
  await page.waitForURL(`${demo.base}/`);

  // Sign out, then in again with the new password.
  await page.getByRole('button', { name: /Se déconnecter/ }).click();
  await page.waitForURL(/\/connexion$/);
  await assertAccessible(page, 'login');
  await signIn(page, parent.login, newPassword);
  await page.waitForURL(`${demo.base}/`);
  await assertAccessible(page, 'dashboard');

  const children = (await me(demo.base, parent.login, newPassword)).children;
  assert.ok(children.length > 0, 'the parent has children');
  const section = page.getByRole('region', { name: 'Mes enfants' });
  for (const child of children) {
    await section.getByText(`${child.user.first_name} ${child.user.last_name}`, { exact: true }).waitFor();
    for (const a of child.attachments) {
      await section.getByText(a.establishment_name, { exact: false }).first().waitFor();
    }
  }
  await context.close();
});

test('a wrong password gets one clear message and keeps the login typed', async () => {
  const teacher = demo.accounts.find((a) => !a.activation_code
    && a.attachments.length === 1 && a.attachments[0].profile === 'enseignant');
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  await signIn(page, teacher.login, 'not-the-password');
  await page.getByRole('alert').getByText('Identifiant ou mot de passe incorrect.').waitFor();
  assert.equal(await page.getByLabel('Identifiant').inputValue(), teacher.login);
  await assertAccessible(page, 'login with an error');
  await context.close();
});

test('Mon compte and the legal pages are accessible, in French and in English', async () => {
  const teacher = demo.accounts.find((a) => !a.activation_code
    && a.attachments.length === 1 && a.attachments[0].profile === 'enseignant');
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  await signIn(page, teacher.login, PASSWORD);
  await page.waitForURL(`${demo.base}/`);
  await page.getByRole('link', { name: 'Mon compte' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mon compte' }).waitFor();
  await assertAccessible(page, 'Mon compte');
  for (const path of ['/mentions-legales', '/donnees-personnelles', '/accessibilite', '/charte']) {
    await page.goto(`${demo.base}${path}`);
    await assertAccessible(page, path);
  }
  // Switch to English from the header; the choice sticks.
  await page.getByLabel('Langue', { exact: true }).selectOption('en');
  await page.getByRole('button', { name: 'Changer de langue' }).click();
  await page.getByRole('heading', { level: 1, name: 'Terms of use' }).waitFor();
  await page.goto(`${demo.base}/mon-compte`);
  await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
  await assertAccessible(page, 'My account (English)');
  await context.close();
});

test('vie scolaire gives a parent a new activation code, which then works', async () => {
  // The first personnel account of each establishment in the demo is its CPE (function EDU).
  const cpe = demo.accounts.find((a) => !a.activation_code && a.roles.length === 0
    && a.attachments.length === 1 && a.attachments[0].profile === 'personnel');
  const parent = demo.accounts.find((a) => !a.activation_code
    && a.attachments.some((x) => x.profile === 'parent' && x.uai === cpe.attachments[0].uai)
    && !a.attachments.some((x) => x.profile !== 'parent'));
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  await signIn(page, cpe.login, PASSWORD);
  await page.waitForURL(`${demo.base}/`);
  await page.getByRole('link', { name: 'Comptes' }).click();
  await page.getByRole('heading', { level: 1, name: 'Comptes de l\'établissement' }).waitFor();
  await assertAccessible(page, 'accounts');
  const lastName = parent.display_name.split(' ').slice(1).join(' ');
  await page.getByLabel('Rechercher un nom').fill(parent.display_name);
  await page.getByRole('button', { name: 'Rechercher' }).click();
  const actions = page.getByRole('form', { name: `Actions pour ${parent.display_name}` });
  await actions.getByRole('button', { name: 'Nouveau code d\'activation' }).click();
  await page.getByRole('heading', { level: 1, name: 'Compte réinitialisé' }).waitFor();
  await assertAccessible(page, 'reset done');
  const code = (await page.locator('.secret code').innerText()).trim();
  assert.match(code, /^[A-Z2-9]{8}$/);
  assert.ok(lastName.length > 0);
  await context.close();

  // The parent does the first connection again with the new code.
  const fresh = await browser.newContext({ locale: 'fr-FR' });
  const p2 = await fresh.newPage();
  await p2.goto(`${demo.base}/premiere-connexion`);
  await p2.getByLabel('Identifiant').fill(parent.login);
  await p2.getByLabel('Code d\'activation').fill(code);
  await p2.getByLabel('Nouveau mot de passe').fill('Trousse-Bleue-9');
  await p2.getByLabel('Confirmez le mot de passe').fill('Trousse-Bleue-9');
  await p2.getByLabel('J\'ai lu la charte d\'utilisation et je l\'accepte.').check();
  await p2.getByRole('button', { name: 'Activer mon compte' }).click();
  await p2.waitForURL(`${demo.base}/`);
  await p2.getByRole('heading', { level: 1, name: /^Bonjour / }).waitFor();
  await fresh.close();
});
