# Catalogue français de la console et des messages d'erreur de l'API.
# Les messages de la console n'utilisent que du texte et des { $variable }
# (pas de sélecteurs) : la console les remplace elle-même.

## Page

page-title = attendant · console du magasin
app-name = attendant
language-switch = Langue
sign-out = Se déconnecter
signed-out = Déconnecté.
loading = Chargement…
save = Enregistrer
cancel = Annuler
delete = Supprimer
add = Ajouter
remove = Retirer
edit = Modifier
none = —
saved = Enregistré.

## Connexion

sign-in-token = Jeton d'administration
sign-in = Se connecter
sign-in-help = Votre jeton vous est remis par la personne qui gère le standard (l'opérateur) : elle le crée dans la page Jetons de sa console ou avec `attendant admin token issue`. Il commence par « att. » et n'est affiché qu'une fois ; demandez-en un nouveau si vous l'avez perdu.

## Onglets

tab-directory = Annuaire
tab-import = Import
tab-sync = Avertissements
tab-calls = Appels
tab-stats = Statistiques
tab-hours = Horaires
tab-menu = Menu
tab-prompts = Messages
tab-tokens = Jetons
tab-audit = Journal
tab-fixes = Non compris
store = Magasin

## Annuaire

search-placeholder = Chercher un nom, un rayon, un poste
new-entry = Nouvelle fiche
field-name = Nom
field-aliases = Autres noms (séparés par ;)
field-department = Rayon
field-extension = Poste
field-target = Destination (poste ou URI sip: ; vide = le poste)
field-fallback = Si occupé ou sans réponse
field-enabled = Active
col-name = Nom
col-department = Rayon
col-extension = Poste
col-target = Destination
entry-disabled = désactivée
entry-saved = { $name } enregistré (version { $version }).
entry-deleted = Supprimé (version { $version }).
entry-confirm-delete = Supprimer { $name } ?

## Import

import-help = Envoyez l'annuaire en CSV (depuis Excel aussi : « ; » ou tabulations, tout encodage) ou en JSON. Vous voyez ce qui changerait avant que rien ne soit appliqué.
import-mode = Mode d'import
import-mode-replace = Remplacer tout l'annuaire
import-mode-merge = Fusionner : ajouter et mettre à jour, garder les autres
import-apply-replace = Appliquer : remplacer l'annuaire ({ $removed } fiches supprimées)
import-confirm-removals = Cela remplace tout l'annuaire : { $removed } fiches seront supprimées. Appliquer ?
import-directory-changed = L'annuaire a changé depuis votre aperçu (quelqu'un d'autre l'a modifié) : rien n'a été appliqué. Prévisualisez de nouveau le fichier.
import-read-as = Lu en { $encoding }.
import-read-as-separated = Lu en { $encoding }, colonnes séparées par { $separator }.
import-separator-tab = des tabulations
import-preview = Aperçu
import-apply = Appliquer cet import
import-choose-file = Choisissez d'abord un fichier.
import-summary = { $added } ajoutées, { $changed } modifiées, { $removed } supprimées, { $unchanged } inchangées
import-added = Ajoutées
import-changed = Modifiées
import-removed = Supprimées
import-pending = Rien n'est encore changé : vérifiez les différences, puis appliquez.
import-done = Importé : version { $version }.
export-csv = Exporter en CSV
export-json = Exporter en JSON
export-excel = Exporter pour Excel
export-failed = Échec de l'export ({ $status }).

## Avertissements

sync-not-checked = Le vocabulaire du moteur de reconnaissance n'a pas été vérifié.
sync-unrecognisable = Noms que le moteur ne sait pas reconnaître
sync-similar = Noms qui se ressemblent à l'oreille
sync-similar-hint = ajoutez un autre nom ou un rayon
sync-more = … et { $count } autres paires qui se ressemblent.
sync-none = Aucun avertissement.

## Appels

col-when = Quand
col-caller = Appelant
col-said = Dit
col-understood = Compris
col-went-to = Transféré à
heard-keys = touches { $keys }
heard-nothing = (rien de compréhensible)
understood-no-match = aucun nom reconnu
understood-to-confirm = { $name } (à confirmer)
calls-none = Aucun appel sur cette période.
period-from = Du
period-to = Au
period-show = Afficher
all-stores = Tous les magasins

## Issues des appels

outcome-speech = Transféré à la voix
outcome-keypad = Transféré au clavier
outcome-spelled = Nom épelé au clavier
outcome-menu = Option du menu
outcome-operator = Accueil (opérateur)
outcome-after_hours = Hors horaires, transféré
outcome-gave_up = Abandon du standard
outcome-closed = Message de fermeture
outcome-hung_up = L'appelant a raccroché
outcome-not_answered = Pas décroché
outcome-other = Autre

## Reconnaissance

recognition-at_once = Compris du premier coup
recognition-confirmed = Après confirmation
recognition-menu = Après un choix entre des noms
recognition-not_understood = Pas compris

## Statistiques

stats-title = Les appelants obtiennent-ils leur correspondant ?
stats-total = { $calls } appels, { $through } transférés ({ $share })
stats-per-day = Appels par jour
stats-per-hour = Appels par heure (heure du magasin) ; grisé : heures d'ouverture habituelles
stats-outcomes = Comment les appels se sont terminés
stats-recognition = Reconnaissance vocale
stats-names = Noms les plus demandés
stats-no-speech = Aucun essai à la voix sur cette période.
stats-export = Exporter les appels (CSV)
stats-calls = appels

## Horaires

hours-time-zone = Fuseau horaire
hours-always-open = Toujours ouvert (pas d'horaires)
hours-weekly = Semaine habituelle
hours-day-help = Intervalles comme 09:00-12:00, 14:00-19:00 ; vide = fermé
day-monday = Lundi
day-tuesday = Mardi
day-wednesday = Mercredi
day-thursday = Jeudi
day-friday = Vendredi
day-saturday = Samedi
day-sunday = Dimanche
hours-holidays = Jours fériés et jours particuliers
hours-holiday-date = Date
hours-holiday-label = Libellé
hours-holiday-hours = Horaires (vide = fermé)
hours-add-holiday = Ajouter un jour
hours-after = En dehors des horaires
hours-after-message = Jouer un message, puis raccrocher
hours-after-operator = Transférer à l'accueil
hours-after-transfer = Transférer vers
hours-message = Message
hours-target = Poste ou URI sip:
hours-preview = Fermé en ce moment ?
hours-open-now = Ouvert en ce moment ({ $time }, heure du magasin).
hours-closed-now = Fermé en ce moment ({ $time }, heure du magasin).
hours-bad-interval = « { $text } » n'est pas un intervalle comme 09:00-12:00.
hours-saved = Horaires enregistrés (version { $version }).

## Menu

menu-help = Touches que l'appelant peut taper après l'accueil. La touche de l'accueil est fixée par la configuration du standard.
menu-key = Touche
menu-label = Libellé
menu-target = Poste ou URI sip:
menu-add = Ajouter une option
menu-saved = Menu enregistré (version { $version }).
menu-spell-key = Touche pour épeler un nom au clavier : { $key }
menu-no-spell-key = Touche pour épeler : celle de la configuration du standard, s'il y en a une.

## Messages

prompts-help = L'accueil et les autres messages qu'entendent les appelants.
prompts-unavailable = Écouter et envoyer des messages demande l'API des messages, que ce standard n'a pas encore.

## Jetons

tokens-help = Les jetons ouvrent cette console et l'API. Donnez à chacun le sien, avec un libellé qui dit à qui il est, et révoquez-le quand la personne part.
token-label = Libellé (à qui)
token-expiry = Expire après (jours ; vide = jamais)
token-issue = Créer un jeton
token-issued = Nouveau jeton pour { $label }, affiché cette fois seulement : copiez-le et remettez-le.
token-col-id = Identifiant
token-col-label = Libellé
token-col-created = Créé
token-col-expires = Expire
token-col-state = État
token-active = actif
token-revoked = révoqué
token-expired = expiré
token-never = jamais
token-revoke = Révoquer
token-confirm-revoke = Révoquer le jeton { $label } ? Qui s'en sert sera déconnecté.
token-revoked-done = Jeton révoqué.

## Journal

audit-action = Action
audit-actor = Qui
audit-filter = Filtrer
audit-col-at = Quand
audit-col-actor = Qui
audit-col-action = Quoi
audit-col-detail = Détail

## Non compris

fixes-help = Appels terminés à l'accueil ou abandonnés après que l'appelant a parlé. Faites de chacun une correction.
fixes-none = Aucun appel manqué par la reconnaissance vocale sur cette période.
fixes-heard = Entendu : « { $text } »
fixes-wanted = Fiche voulue
fixes-add-alias = Ajouter « { $text } » comme autre nom
fixes-alias-added = « { $text } » est maintenant un autre nom de { $name }.
fixes-no-audio = (pas enregistré)

## Valeurs refusées

invalid-limit = la limite { $n } n'est pas entre 1 et 1000
invalid-target = `{ $field }` : « { $value } » n'est ni un poste (chiffres) ni une URI sip:/sips:
invalid-store-name = le nom doit faire de 1 à 120 caractères, sans caractères de contrôle
invalid-store-number = le numéro « { $number } » doit faire de 1 à 20 chiffres, avec un + au début s'il le faut
invalid-token-label = le libellé doit faire de 1 à 120 caractères
invalid-expiry-range = date d'expiration hors limites
invalid-expiry-days = l'expiration en jours ({ $days }) doit être entre 1 et 3660
invalid-menu-digit = la touche « { $digit } » du menu doit être une seule touche, de 1 à 9
invalid-menu-label = menu, touche { $digit } : le libellé doit faire de 1 à 120 caractères
invalid-period-reversed = la période finit ({ $to }) avant de commencer ({ $from })
invalid-period-too-long = la période dépasse { $days } jours
menu-digit-not-a-key = menu du magasin { $store } : la touche { $digit } n'est pas entre 1 et 9
menu-digit-twice = menu du magasin { $store } : la touche { $digit } apparaît deux fois
hours-unknown-time-zone = fuseau horaire inconnu : « { $name } »
hours-empty-interval = { $day } : l'intervalle { $open }-{ $close } ferme avant d'ouvrir
hours-overlap = { $day } : les intervalles { $first } et { $second } se chevauchent
hours-duplicate-holiday = le jour { $date } est donné deux fois
hours-empty-closed-message = le message de fermeture est vide
duplicate-entry = le magasin { $store } a déjà une fiche « { $key } »
duplicate-extension = le magasin { $store } a déjà une fiche au poste { $extension }
duplicate-number = un magasin répond déjà au numéro { $number }

## Erreurs de l'API

error-missing-token = jeton absent : envoyez `Authorization: Bearer <jeton>`
error-token-malformed = jeton mal formé
error-token-invalid = jeton invalide
error-token-expired = jeton expiré
error-rate-limited = trop d'essais manqués depuis cette adresse ; réessayez dans { $seconds } s
error-forbidden = ce jeton ne permet pas de { $what }
forbidden-access-another-store = accéder à un autre magasin
forbidden-list-stores = lister les magasins
forbidden-create-stores = créer des magasins
forbidden-issue-tokens = créer des jetons
forbidden-revoke-tokens = révoquer des jetons
forbidden-read-the-installations-audit-log = lire le journal de toute l'installation
forbidden-read-the-registrations = lire les enregistrements SIP
forbidden-read-every-stores-statistics = lire les statistiques de tous les magasins
forbidden-manage-another-stores-tokens = gérer les jetons d'un autre magasin
error-not-found-store = magasin { $id } introuvable
error-not-found-entry = fiche { $id } introuvable
error-not-found-token = jeton { $id } introuvable
error-not-found-route = adresse inconnue
error-not-found = { $what } introuvable
error-bad-request = requête mal formée : { $detail }
error-invalid = valeur refusée : { $detail }
error-rejected = fichier refusé : { $detail }
error-conflict = conflit : { $detail }
error-too-large = trop volumineux : { $detail }
error-unsupported-media-type = type de contenu { $found } non pris en charge : attendu { $expected }
error-internal = erreur interne
error-timeout = la requête a duré plus de { $limit } ms et a été arrêtée ; elle n'a rien changé, sauf si une lecture ultérieure montre le contraire
error-directory-changed = l'annuaire a changé depuis votre aperçu (version { $previewed }, maintenant { $current }) : prévisualisez de nouveau le fichier
error-confirm-removals = cet import remplace l'annuaire et supprime des fiches ({ $removed }) : envoyez confirm_removals={ $removed } pour l'appliquer, ou importez avec mode=merge pour les garder
error-method-not-allowed = méthode non autorisée sur cette adresse
