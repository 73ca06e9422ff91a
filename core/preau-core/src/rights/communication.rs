//! Communication rules: who may write to whom in an establishment. The defaults of DESIGN §3:
//! staff (personnel, direction) and teachers may write to everyone of the establishment, and
//! everyone may write to the staff; a student may write to the teachers of their classes; a parent
//! to the teachers of their children; a parent and their own child to each other. Nobody else.
//!
//! The database gathers the facts about a pair ([`Relation`]); [`may_write`] decides from them
//! alone, so the rules are tested as a table.

use crate::db::{Db, DbResult};
use crate::identity::Profile;

/// What links a writer to a recipient in one establishment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relation {
    /// The writer's profiles there (empty: not attached).
    pub from: Vec<Profile>,
    /// The recipient's profiles there (empty: not attached).
    pub to: Vec<Profile>,
    /// The recipient teaches one of the writer's classes or groups.
    pub teaches_writer: bool,
    /// The recipient teaches a class or group of one of the writer's children.
    pub teaches_writers_child: bool,
    /// One is the other's parent (a family link, either way).
    pub family: bool,
}

/// Whether the writer may write to the recipient.
pub fn may_write(r: &Relation) -> bool {
    if r.from.is_empty() || r.to.is_empty() {
        return false;
    }
    let from_adult_of_school = r
        .from
        .iter()
        .any(|p| p.is_staff() || *p == Profile::Enseignant);
    let to_staff = r.to.iter().any(|p| p.is_staff());
    let to_teacher = r.to.contains(&Profile::Enseignant);
    from_adult_of_school
        || to_staff
        || (to_teacher && r.from.contains(&Profile::Eleve) && r.teaches_writer)
        || (to_teacher && r.from.contains(&Profile::Parent) && r.teaches_writers_child)
        || r.family
}

impl Db {
    /// Whether `from` may write to `to` in the establishment `establishment_id`.
    pub async fn may_write(&self, from: &str, to: &str, establishment_id: &str) -> DbResult<bool> {
        if from == to {
            return Ok(false);
        }
        let relation = self.relation(from, to, establishment_id).await?;
        Ok(may_write(&relation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Profile::*;

    #[track_caller]
    fn check(from: &[Profile], to: &[Profile], facts: (bool, bool, bool), expected: bool) {
        let r = Relation {
            from: from.to_vec(),
            to: to.to_vec(),
            teaches_writer: facts.0,
            teaches_writers_child: facts.1,
            family: facts.2,
        };
        assert_eq!(may_write(&r), expected, "{from:?} → {to:?} with {facts:?}");
    }

    const NONE: (bool, bool, bool) = (false, false, false);

    #[test]
    fn staff_and_teachers_write_to_everyone() {
        for from in [Personnel, Direction, Enseignant] {
            for to in [Eleve, Parent, Enseignant, Personnel, Direction, Invite] {
                check(&[from], &[to], NONE, true);
            }
        }
    }

    #[test]
    fn everyone_writes_to_the_staff() {
        for from in [Eleve, Parent, Invite] {
            check(&[from], &[Personnel], NONE, true);
            check(&[from], &[Direction], NONE, true);
        }
    }

    #[test]
    fn students_and_parents_write_to_their_teachers_only() {
        check(&[Eleve], &[Enseignant], NONE, false);
        check(&[Eleve], &[Enseignant], (true, false, false), true);
        check(&[Parent], &[Enseignant], NONE, false);
        check(&[Parent], &[Enseignant], (false, true, false), true);
        // Teaching the writer's child does not open the teacher to the child's classmates.
        check(&[Eleve], &[Enseignant], (false, true, false), false);
    }

    #[test]
    fn parents_and_their_own_children_write_to_each_other() {
        check(&[Parent], &[Eleve], NONE, false);
        check(&[Parent], &[Eleve], (false, false, true), true);
        check(&[Eleve], &[Parent], (false, false, true), true);
        check(&[Eleve], &[Eleve], NONE, false);
        check(&[Parent], &[Parent], NONE, false);
        check(&[Invite], &[Eleve], NONE, false);
    }

    #[test]
    fn nobody_outside_the_establishment() {
        check(&[], &[Eleve], NONE, false);
        check(&[Direction], &[], NONE, false);
    }

    #[test]
    fn a_teacher_who_is_also_a_parent_keeps_the_teachers_rights() {
        check(&[Enseignant, Parent], &[Eleve], NONE, true);
    }
}
